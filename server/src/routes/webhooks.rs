//! Reports that providers post to us on their own: Twilio's delivery reports and Stripe's
//! events. They carry no session or cookie: each is trusted only by its signature, made with a
//! secret we share with the provider.

use crate::domain::stripe_events;
use crate::error::ApiError;
use crate::routes::access::routes;
use crate::state::AppState;
use crate::twilio::reports::{self, Report};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use shared::ErrorBody;
use utoipa_axum::router::OpenApiRouter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(twilio_status))
        .routes(routes!(stripe))
}

/// A Twilio status callback, as Twilio posts it (form-encoded). Only the fields read here;
/// Twilio sends more.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // describes the form for the OpenAPI document; the handler reads the pairs
#[schema(title = "TwilioStatusCallback")]
struct TwilioStatusCallback {
    /// A message's `SM…` SID.
    #[schema(rename = "MessageSid")]
    message_sid: Option<String>,
    /// `queued`, `sent`, `delivered`, `undelivered`, `failed`…
    #[schema(rename = "MessageStatus")]
    message_status: Option<String>,
    /// A call's `CA…` SID.
    #[schema(rename = "CallSid")]
    call_sid: Option<String>,
    /// `ringing`, `completed`, `busy`, `no-answer`, `failed`…
    #[schema(rename = "CallStatus")]
    call_status: Option<String>,
    /// Twilio's error code for a failure (`30003`).
    #[schema(rename = "ErrorCode")]
    error_code: Option<String>,
}

/// Twilio's report on an SMS or a call: a message it could not deliver is marked failed and
/// logged as an error. Answered 200 also for a message this server does not know (Twilio
/// would post it again on any other answer).
#[utoipa::path(post, path = "/api/webhooks/twilio", tag = "webhooks",
    request_body(content = TwilioStatusCallback, content_type = "application/x-www-form-urlencoded"),
    params(("X-Twilio-Signature" = String, Header,
        description = "Base64 of the HMAC-SHA1, under the auth token, of the configured callback URL followed by each parameter's name and value in name order")),
    responses(
        (status = 200, description = "Recorded, or about no message of ours"),
        (status = 403, body = ErrorBody, description = "signature_invalid: X-Twilio-Signature is missing or wrong, or this server sends nothing through Twilio; csrf_failed: a cross-site write"),
    ))]
async fn twilio_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    // Without Twilio here there is no token to check a signature with: none is valid.
    let Some(twilio) = state.outbox.twilio() else {
        return Err(ApiError::SignatureInvalid);
    };
    let params: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !twilio.signed(signature, &params) {
        return Err(ApiError::SignatureInvalid);
    }
    if let Some(report) = Report::from_params(&params) {
        reports::record(&state, &report).await?;
    }
    Ok(StatusCode::OK)
}

/// Stripe's webhook: what Stripe reports on its own, signed with the endpoint's secret.
///
/// Register this URL at Stripe with the events `refund.failed`, `refund.updated` and
/// `charge.dispute.created`. The body is a Stripe Event as Stripe sent it, read as raw
/// bytes: the `Stripe-Signature` header (`t=<unix seconds>,v1=<hex>…`) signs them with the endpoint's secret and must have been made within 300 seconds of the server's
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
        (status = 400, body = ErrorBody, description = "bad_request: a signed body that is not an event"),
        (status = 403, body = ErrorBody, description = "signature_invalid: no Stripe-Signature, a malformed one, none of its v1 signatures made with this endpoint's secret, or made over 300 s from now"),
        (status = 404, body = ErrorBody, description = "not_found: this server does not take cards through Stripe"),
        (status = 409, body = ErrorBody, description = "webhook_event_early: about a refund still being settled here; Stripe delivers it again later"),
    ))]
async fn stripe(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    crate::oplog::set_actor(shared::api::OperationActor::System);
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    stripe_events::receive(&state, signature, &body).await?;
    Ok(StatusCode::OK)
}
