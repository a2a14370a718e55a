use crate::auth::{ClientIp, CurrentSession};
use crate::domain::{account, billing, realname};
use crate::error::{ApiError, Json};
use crate::routes::access::routes;
use crate::state::AppState;
use axum::extract::State;
use shared::ErrorBody;
use shared::api::{
    AccountView, BillingAddressView, CodeSent, RealNameView, SendCodeForm, VerifyForm,
};
use shared::billing::{BillingAddress, BillingAddressForm};
use shared::realname::RealNameForm;
use utoipa_axum::router::OpenApiRouter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_address, put_address))
        .routes(routes!(send_contact_code))
        .routes(routes!(verify_contact))
        .routes(routes!(get_real_name, register_real_name))
}

/// The billing address, if any, and which contact channel still needs verifying.
#[utoipa::path(get, path = "/api/billing-address", tag = "billing",
    responses((status = 200, body = BillingAddressView), (status = 401, body = ErrorBody)))]
async fn get_address(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<BillingAddressView>, ApiError> {
    Ok(Json(billing::view(&state, &session.account_id).await?))
}

/// Saves the billing address (used for tax, settlement and invoices only). Needs both the
/// email and the mobile number verified.
#[utoipa::path(put, path = "/api/billing-address", tag = "billing", request_body = BillingAddressForm,
    responses(
        (status = 200, body = BillingAddress),
        (status = 409, body = ErrorBody, description = "contact_not_verified"),
        (status = 422, body = ErrorBody, description = "A field was refused; `field` names it"),
    ))]
async fn put_address(
    State(state): State<AppState>,
    session: CurrentSession,
    Json(form): Json<BillingAddressForm>,
) -> Result<Json<BillingAddress>, ApiError> {
    Ok(Json(
        billing::save(&state, &session.account_id, form.parse()?).await?,
    ))
}

/// Sends a code to the contact channel not verified at sign-up: the mobile number (SMS or
/// voice) or the account email.
#[utoipa::path(post, path = "/api/account/contact/code", tag = "billing", request_body = SendCodeForm,
    responses(
        (status = 200, body = CodeSent),
        (status = 409, body = ErrorBody, description = "contact_not_verified: a phone number is needed"),
        (status = 422, body = ErrorBody, description = "invalid_phone"),
        (status = 429, body = ErrorBody, description = "resend_too_soon, too_many_codes, rate_limited"),
    ))]
async fn send_contact_code(
    State(state): State<AppState>,
    session: CurrentSession,
    ClientIp(client): ClientIp,
    Json(form): Json<SendCodeForm>,
) -> Result<Json<CodeSent>, ApiError> {
    Ok(Json(
        billing::send_contact_code(&state, &session.account_id, &form, &client).await?,
    ))
}

/// Proves the contact channel with its code.
#[utoipa::path(post, path = "/api/account/contact/verify", tag = "billing", request_body = VerifyForm,
    responses(
        (status = 200, body = AccountView),
        (status = 400, body = ErrorBody, description = "no_code_sent"),
        (status = 409, body = ErrorBody, description = "code_used: the newest code was already used"),
        (status = 410, body = ErrorBody, description = "code_expired"),
        (status = 422, body = ErrorBody, description = "invalid_code, code_incorrect"),
        (status = 429, body = ErrorBody, description = "code_attempts_exceeded"),
    ))]
async fn verify_contact(
    State(state): State<AppState>,
    session: CurrentSession,
    Json(form): Json<VerifyForm>,
) -> Result<Json<AccountView>, ApiError> {
    billing::verify_contact(&state, &session.account_id, &form.parse()?).await?;
    Ok(Json(account::view(&state.db, &session.account_id).await?))
}

/// Real-name registration status.
#[utoipa::path(get, path = "/api/real-name", tag = "billing",
    responses((status = 200, body = RealNameView), (status = 401, body = ErrorBody)))]
async fn get_real_name(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<RealNameView>, ApiError> {
    Ok(Json(realname::view(&state, &session.account_id).await?))
}

/// Registers the real name: an individual's resident identity number or an enterprise's
/// unified social credit code, checked by its check character.
#[utoipa::path(post, path = "/api/real-name", tag = "billing", request_body = RealNameForm,
    responses(
        (status = 200, body = RealNameView),
        (status = 409, body = ErrorBody, description = "real_name_already_verified"),
        (status = 422, body = ErrorBody, description = "invalid_id_number, field_required"),
    ))]
async fn register_real_name(
    State(state): State<AppState>,
    session: CurrentSession,
    Json(form): Json<RealNameForm>,
) -> Result<Json<RealNameView>, ApiError> {
    Ok(Json(
        realname::register(&state, &session.account_id, form.parse()?).await?,
    ))
}
