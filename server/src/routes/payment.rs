use crate::auth::{ClientIp, CurrentSession};
use crate::domain::{account, ledger, payment};
use crate::error::{ApiError, Json};
use crate::idempotency;
use crate::ids::PaymentMethodId;
use crate::routes::access::routes;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Datelike;
use shared::ErrorBody;
use shared::api::{
    CodeSent, LedgerView, MethodAdded, PaymentMethodsView, PaypalCompleteForm, PaypalStarted,
    PaytmCodeForm, PaytmForm,
};
use shared::payment::{CardForm, CardTokenForm};
use utoipa_axum::router::OpenApiRouter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(add_card))
        .routes(routes!(add_card_token))
        .routes(routes!(start_paypal))
        .routes(routes!(complete_paypal))
        .routes(routes!(send_paytm_code))
        .routes(routes!(add_paytm))
        .routes(routes!(set_default))
        .routes(routes!(remove))
        .routes(routes!(ledger_entries))
}

/// The account's payment methods, what it may add, and the free-credit offer.
#[utoipa::path(get, path = "/api/payment-methods", tag = "payment",
    responses((status = 200, body = PaymentMethodsView), (status = 401, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<PaymentMethodsView>, ApiError> {
    Ok(Json(payment::list(&state, &session.account_id).await?))
}

/// Adds a bank card: checked, verified with a 1.00 hold that is released at once, then bound.
/// Needs an `Idempotency-Key`; a retry with the same key and card gets the first answer. The
/// key remembers the card, not its CVV: a corrected CVV is a new attempt, with a new key.
#[utoipa::path(post, path = "/api/payment-methods/cards", tag = "payment", request_body = CardForm,
    params(
        ("Idempotency-Key" = String, Header, description = "Unique per attempt; reuse it to retry"),
    ),
    responses(
        (status = 201, body = MethodAdded),
        (status = 402, body = ErrorBody, description = "payment_declined, insufficient_funds"),
        (status = 403, body = ErrorBody, description = "reauth_required"),
        (status = 409, body = ErrorBody, description = "card_already_bound, billing_address_required"),
        (status = 422, body = ErrorBody, description = "A field was refused, or card_type_not_accepted, unsupported_card_brand"),
        (status = 502, body = ErrorBody, description = "gateway_error"),
        (status = 504, body = ErrorBody, description = "gateway_timeout"),
    ))]
async fn add_card(
    State(state): State<AppState>,
    session: CurrentSession,
    headers: HeaderMap,
    Json(form): Json<CardForm>,
) -> Result<Response, ApiError> {
    session.require_recent_sign_in(state.clock.now())?;
    let today = state.clock.now_utc();
    let attempt = payment::card_attempt(&state.secrets, &form);
    idempotency::once(&state, &session, &headers, &attempt, async {
        let card = form.parse((today.year(), today.month()))?;
        let added = payment::add_card(&state, &session.account_id, card).await?;
        Ok((StatusCode::CREATED, added))
    })
    .await
}

/// Adds a bank card tokenized in the browser by the payment gateway's own form (production
/// with Stripe: Stripe.js makes a PaymentMethod, `pm_…`): the gateway reports the card's
/// brand, type and identity, the same rules apply, and it is verified by the same 1.00 hold.
/// Needs an `Idempotency-Key`; a retry with the same key and token gets the first answer.
#[utoipa::path(post, path = "/api/payment-methods/card-tokens", tag = "payment", request_body = CardTokenForm,
    params(
        ("Idempotency-Key" = String, Header, description = "Unique per attempt; reuse it to retry"),
    ),
    responses(
        (status = 201, body = MethodAdded),
        (status = 402, body = ErrorBody, description = "payment_declined, insufficient_funds"),
        (status = 403, body = ErrorBody, description = "reauth_required"),
        (status = 409, body = ErrorBody, description = "card_already_bound, billing_address_required"),
        (status = 422, body = ErrorBody, description = "A field was refused, or card_type_not_accepted, unsupported_card_brand, payment_method_not_available (this server takes cards in its own form)"),
        (status = 502, body = ErrorBody, description = "gateway_error"),
        (status = 504, body = ErrorBody, description = "gateway_timeout"),
    ))]
async fn add_card_token(
    State(state): State<AppState>,
    session: CurrentSession,
    headers: HeaderMap,
    Json(form): Json<CardTokenForm>,
) -> Result<Response, ApiError> {
    session.require_recent_sign_in(state.clock.now())?;
    idempotency::once(&state, &session, &headers, &form, async {
        let (token, holder) = form.parse()?;
        let added = payment::add_card_token(&state, &session.account_id, &token, holder).await?;
        Ok((StatusCode::CREATED, added))
    })
    .await
}

/// Starts adding PayPal: returns the PayPal page to send the browser to.
#[utoipa::path(post, path = "/api/payment-methods/paypal", tag = "payment",
    responses(
        (status = 200, body = PaypalStarted),
        (status = 403, body = ErrorBody, description = "reauth_required"),
        (status = 409, body = ErrorBody, description = "billing_address_required, card_already_bound (PayPal already added)"),
        (status = 422, body = ErrorBody, description = "payment_method_not_available"),
    ))]
async fn start_paypal(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<PaypalStarted>, ApiError> {
    session.require_recent_sign_in(state.clock.now())?;
    Ok(Json(
        payment::start_paypal(&state, &session.account_id).await?,
    ))
}

/// Back from PayPal: binds the approving PayPal account.
#[utoipa::path(post, path = "/api/payment-methods/paypal/complete", tag = "payment", request_body = PaypalCompleteForm,
    responses(
        (status = 201, body = MethodAdded),
        (status = 403, body = ErrorBody, description = "reauth_required"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "paypal_cancelled, card_already_bound, billing_address_required"),
        (status = 422, body = ErrorBody, description = "paypal_region_not_supported"),
        (status = 402, body = ErrorBody, description = "payment_declined, insufficient_funds"),
        (status = 502, body = ErrorBody, description = "gateway_error"),
        (status = 504, body = ErrorBody, description = "gateway_timeout"),
    ))]
async fn complete_paypal(
    State(state): State<AppState>,
    session: CurrentSession,
    Json(form): Json<PaypalCompleteForm>,
) -> Result<(StatusCode, Json<MethodAdded>), ApiError> {
    // Starting checked too, but binding is the change, and the way back from PayPal can take
    // longer than the hour.
    session.require_recent_sign_in(state.clock.now())?;
    Ok((
        StatusCode::CREATED,
        Json(payment::complete_paypal(&state, &session.account_id, &form.token).await?),
    ))
}

/// Sends a code to the Paytm phone (India accounts).
#[utoipa::path(post, path = "/api/payment-methods/paytm/code", tag = "payment", request_body = PaytmCodeForm,
    responses(
        (status = 200, body = CodeSent),
        (status = 409, body = ErrorBody, description = "billing_address_required"),
        (status = 422, body = ErrorBody, description = "invalid_phone, payment_method_not_available"),
        (status = 429, body = ErrorBody),
    ))]
async fn send_paytm_code(
    State(state): State<AppState>,
    session: CurrentSession,
    ClientIp(client): ClientIp,
    Json(form): Json<PaytmCodeForm>,
) -> Result<Json<CodeSent>, ApiError> {
    let (country, _) = account::country_and_created(&state.db, &session.account_id).await?;
    let phone = form.parse(country)?;
    Ok(Json(
        payment::send_paytm_code(&state, &session.account_id, &phone, &client).await?,
    ))
}

/// "Add now": binds the Paytm account whose phone the code proved.
#[utoipa::path(post, path = "/api/payment-methods/paytm", tag = "payment", request_body = PaytmForm,
    responses(
        (status = 201, body = MethodAdded),
        (status = 403, body = ErrorBody, description = "reauth_required"),
        (status = 409, body = ErrorBody, description = "card_already_bound (Paytm already added), code_used, billing_address_required"),
        (status = 422, body = ErrorBody, description = "invalid_phone, invalid_code, code_incorrect, payment_method_not_available"),
    ))]
async fn add_paytm(
    State(state): State<AppState>,
    session: CurrentSession,
    Json(form): Json<PaytmForm>,
) -> Result<(StatusCode, Json<MethodAdded>), ApiError> {
    session.require_recent_sign_in(state.clock.now())?;
    let (country, _) = account::country_and_created(&state.db, &session.account_id).await?;
    let (phone, code) = form.parse(country)?;
    Ok((
        StatusCode::CREATED,
        Json(payment::add_paytm(&state, &session.account_id, &phone, &code).await?),
    ))
}

/// Makes a method the default.
#[utoipa::path(post, path = "/api/payment-methods/{id}/default", tag = "payment",
    params(("id" = String, Path)),
    responses((status = 200, body = PaymentMethodsView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn set_default(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(id): Path<PaymentMethodId>,
) -> Result<Json<PaymentMethodsView>, ApiError> {
    session.require_recent_sign_in(state.clock.now())?;
    payment::set_default(&state, &session.account_id, &id).await?;
    Ok(Json(payment::list(&state, &session.account_id).await?))
}

/// Removes a method.
#[utoipa::path(delete, path = "/api/payment-methods/{id}", tag = "payment",
    params(("id" = String, Path)),
    responses((status = 200, body = PaymentMethodsView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "last_payment_method")))]
async fn remove(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(id): Path<PaymentMethodId>,
) -> Result<Json<PaymentMethodsView>, ApiError> {
    session.require_recent_sign_in(state.clock.now())?;
    payment::remove(&state, &session.account_id, &id).await?;
    Ok(Json(payment::list(&state, &session.account_id).await?))
}

/// The account's ledger, newest first, and its credit balance.
#[utoipa::path(get, path = "/api/ledger", tag = "payment",
    responses((status = 200, body = LedgerView), (status = 401, body = ErrorBody)))]
async fn ledger_entries(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<LedgerView>, ApiError> {
    Ok(Json(LedgerView {
        entries: ledger::entries(&state.db, &session.account_id).await?,
        credit_balance: ledger::balance(&state.db, &session.account_id, ledger::Bucket::Credit)
            .await?,
    }))
}
