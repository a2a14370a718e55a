//! Reports a payment party sends us on its own: Stripe's webhook.

use crate::domain::stripe_events;
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use shared::ErrorBody;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stripe))
}

/// Stripe's webhook: what Stripe reports on its own, signed with the endpoint's secret.
///
/// Register this URL at Stripe with the events `refund.failed`, `refund.updated` and
/// `charge.dispute.created`. The body is a Stripe Event as Stripe sent it, read as raw bytes: the `Stripe-Signature` header (`t=<unix seconds>,v1=<hex>…`) signs
/// them with the endpoint's secret and must have been made within 300 seconds of the server's
/// time. Each event is acted on once: a redelivery, and an event this server does not act on,
/// answer 200 and change nothing. A refund the card network returned is credited to the
/// account's balance; a dispute is written in the account's operation log. No session, no CSRF
/// token: the signature is the authentication. Answers 404 on a server without Stripe.
#[utoipa::path(post, path = "/api/webhooks/stripe", tag = "webhooks",
    params(
        ("Stripe-Signature" = String, Header, description = "`t=<unix seconds>,v1=<hex HMAC-SHA256 of \"{t}.{body}\">`, one or more v1"),
    ),
    request_body(content = String, content_type = "application/json",
        description = "A Stripe Event (https://docs.stripe.com/api/events/object), the exact bytes Stripe signed"),
    responses(
        (status = 200, description = "Processed, or processed before, or not an event this server acts on"),
        (status = 400, body = ErrorBody, description = "webhook_signature_invalid: no Stripe-Signature, a malformed one, none of its v1 signatures made with this endpoint's secret, or made over 300 s from now; bad_request: a signed body that is not an event"),
        (status = 404, body = ErrorBody, description = "not_found: this server does not take cards through Stripe"),
        (status = 409, body = ErrorBody, description = "webhook_event_early: about a refund still being settled here; Stripe delivers it again later"),
    ))]
async fn stripe(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    crate::oplog::set_actor(crate::oplog::Actor::System);
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    stripe_events::receive(&state, signature, &body).await?;
    Ok(StatusCode::OK)
}
