//! Dev mode only: the simulated PayPal consent page the simulated gateway sends browsers to.
//! It looks and behaves like PayPal's: log in, agree, return; or cancel and return.

use crate::error::ApiError;
use crate::routes::dev::escape;
use crate::state::AppState;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Deserialize)]
pub struct Checkout {
    token: String,
}

#[derive(Deserialize)]
pub struct Consent {
    token: String,
    email: String,
    password: String,
    country: String,
}

/// PayPal account countries the page offers; "CN" is a mainland-China PayPal account.
const COUNTRIES: &[(&str, &str)] = &[
    ("US", "United States"),
    ("GB", "United Kingdom"),
    ("SG", "Singapore"),
    ("MY", "Malaysia"),
    ("DE", "Germany"),
    ("HK", "Hong Kong (China)"),
    ("CN", "China (mainland)"),
];

fn return_url(token: &str, cancelled: bool) -> String {
    let token: String = token
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!(
        "/payment-methods/paypal/return?token={token}{}",
        if cancelled { "&cancelled=1" } else { "" }
    )
}

pub async fn page(Query(q): Query<Checkout>) -> Html<String> {
    render(&q.token, None)
}

fn render(token: &str, error: Option<&str>) -> Html<String> {
    let options: String = COUNTRIES
        .iter()
        .map(|(code, name)| format!("<option value=\"{code}\">{name}</option>"))
        .collect();
    let error = error.map_or(String::new(), |e| {
        format!("<p class=\"form-error\" role=\"alert\">{}</p>", escape(e))
    });
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Pay with PayPal (simulated)</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"stylesheet\" href=\"/main.css\"></head>\
         <body><main class=\"sim-paypal\"><h1>Pay with PayPal</h1>\
         <p>Simulated PayPal of Account Center's dev mode. Log in and agree to let Account Center charge this PayPal account \
         for the cloud resources you use.</p>{error}\
         <form method=\"post\" action=\"/sim/paypal/checkout\"><input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <label for=\"pp-email\">Email</label><input id=\"pp-email\" name=\"email\" type=\"email\" autocomplete=\"off\" required>\
         <label for=\"pp-password\">Password</label><input id=\"pp-password\" name=\"password\" type=\"password\" required>\
         <label for=\"pp-country\">PayPal account country</label><select id=\"pp-country\" name=\"country\">{options}</select>\
         <button type=\"submit\" class=\"primary\">Agree and Continue</button></form>\
         <p><a href=\"{cancel}\">Cancel and return to Account Center</a></p></main></body></html>",
        token = escape(token),
        cancel = escape(&return_url(token, true)),
    ))
}

pub async fn consent(
    State(state): State<AppState>,
    Form(form): Form<Consent>,
) -> Result<Response, ApiError> {
    let Ok(email) = shared::account::Email::parse(&form.email) else {
        return Ok(
            render(&form.token, Some("Enter the email of your PayPal account.")).into_response(),
        );
    };
    if form.password.is_empty() {
        return Ok(render(&form.token, Some("Enter your PayPal password.")).into_response());
    }
    let country = COUNTRIES
        .iter()
        .find(|(code, _)| *code == form.country)
        .map_or("US", |(code, _)| code);
    let payer_id = format!(
        "SIMPAYER-{}",
        &hex::encode(Sha256::digest(email.as_str().as_bytes()))[..12].to_uppercase()
    );
    sqlx::query(
        "INSERT INTO sim_paypal_consents (token, payer_id, payer_email, country, approved_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (token) DO UPDATE SET payer_id = excluded.payer_id, payer_email = excluded.payer_email,
           country = excluded.country, approved_at = excluded.approved_at",
    )
    .bind(&form.token)
    .bind(&payer_id)
    .bind(email.as_str())
    .bind(country)
    .bind(state.clock.now())
    .execute(state.db.writer())
    .await?;
    Ok(Redirect::to(&return_url(&form.token, false)).into_response())
}
