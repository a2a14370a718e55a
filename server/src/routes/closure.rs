use crate::auth::{self, ClientIp, CurrentSession};
use crate::domain::closure;
use crate::error::{ApiError, Json};
use crate::idempotency;
use crate::ids::{BillId, IcpFilingId, RelationshipId, SystemCheckId};
use crate::routes::access::routes;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::ErrorBody;
use shared::api::{
    AccountTies, ClosureStatus, CodeSent, ConfirmClosureForm, RenounceForm, SystemCheckView,
    TwoStepCodeForm, VerifyForm,
};
use shared::closure::ClosureCheck;
use utoipa_axum::router::OpenApiRouter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status, confirm))
        .routes(routes!(closure_check))
        .routes(routes!(ties))
        .routes(routes!(export))
        .routes(routes!(identity_code))
        .routes(routes!(identity_verify))
        .routes(routes!(identity_alipay))
        .routes(routes!(identity_authenticator))
        .routes(routes!(start_system_check))
        .routes(routes!(get_system_check))
        .routes(routes!(renounce))
        .routes(routes!(pay_bill))
        .routes(routes!(cancel_icp_filing))
        .routes(routes!(remove_relationship))
        .routes(routes!(end_partnership))
}

/// Whether the account is cooling down before closure, and how long is left. The only call
/// besides signing in and out that works during the cool-down.
#[utoipa::path(get, path = "/api/closure", tag = "closure",
    responses((status = 200, body = ClosureStatus), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "owner_only")))]
async fn status(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<ClosureStatus>, ApiError> {
    Ok(Json(closure::status(&state, &session).await?))
}

/// The closure check: what must be processed and what may be renounced. Run it any time.
#[utoipa::path(get, path = "/api/closure/check", tag = "closure",
    responses((status = 200, body = ClosureCheck), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn closure_check(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<ClosureCheck>, ApiError> {
    Ok(Json(closure::check(&state, &session.account_id).await?))
}

/// Bills, ICP filings, multi-account relationships, reseller partnership and balance: what
/// the closure's "must process" items point at.
#[utoipa::path(get, path = "/api/closure/ties", tag = "closure",
    responses((status = 200, body = AccountTies), (status = 401, body = ErrorBody)))]
async fn ties(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<AccountTies>, ApiError> {
    Ok(Json(closure::ties(&state, &session.account_id).await?))
}

/// One-click backup before closing: bills, orders, refunds, invoices and the ledger as JSON.
#[utoipa::path(get, path = "/api/closure/export", tag = "closure",
    responses((status = 200, description = "A JSON file to keep", content_type = "application/json"), (status = 401, body = ErrorBody)))]
async fn export(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Response, ApiError> {
    let body = closure::export(&state, &session.account_id).await?;
    let disposition = "attachment; filename=\"account-center-export.json\"";
    Ok((
        [(header::CONTENT_DISPOSITION, disposition)],
        axum::Json(body),
    )
        .into_response())
}

/// Sends the identity code for closure to the account's verified mobile number.
#[utoipa::path(post, path = "/api/closure/identity/code", tag = "closure",
    responses((status = 200, body = CodeSent), (status = 409, body = ErrorBody, description = "contact_not_verified"), (status = 429, body = ErrorBody)))]
async fn identity_code(
    State(state): State<AppState>,
    session: CurrentSession,
    ClientIp(client): ClientIp,
) -> Result<Json<CodeSent>, ApiError> {
    Ok(Json(
        closure::send_identity_code(&state, &session, &client).await?,
    ))
}

/// Proves the owner's identity with the phone code.
#[utoipa::path(post, path = "/api/closure/identity/verify", tag = "closure", request_body = VerifyForm,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody, description = "code_used: the newest code was already used"), (status = 410, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn identity_verify(
    State(state): State<AppState>,
    session: CurrentSession,
    Json(form): Json<VerifyForm>,
) -> Result<StatusCode, ApiError> {
    closure::verify_identity(&state, &session, &form.parse()?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Proves the owner's identity with the authenticator app's code (accounts with two-step
/// verification on), throttled like a password.
#[utoipa::path(post, path = "/api/closure/identity/authenticator", tag = "closure", request_body = TwoStepCodeForm,
    responses((status = 204), (status = 422, body = ErrorBody, description = "invalid_code, code_incorrect"), (status = 429, body = ErrorBody, description = "sign_in_throttled")))]
async fn identity_authenticator(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    session: CurrentSession,
    Json(form): Json<TwoStepCodeForm>,
) -> Result<StatusCode, ApiError> {
    closure::verify_identity_by_authenticator(&state, &session, &form, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Proves the owner's identity by the simulated Alipay authorization (real-name accounts).
#[utoipa::path(post, path = "/api/closure/identity/alipay", tag = "closure",
    responses((status = 204), (status = 403, body = ErrorBody, description = "identity_not_verified: no real-name registration")))]
async fn identity_alipay(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<StatusCode, ApiError> {
    closure::alipay_authorize(&state, &session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts the system check; poll it for progress.
#[utoipa::path(post, path = "/api/closure/system-check", tag = "closure",
    responses((status = 202, body = SystemCheckView)))]
async fn start_system_check(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<(StatusCode, Json<SystemCheckView>), ApiError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(closure::start_system_check(&state, &session.account_id).await?),
    ))
}

/// The system check's progress and, when done, its result.
#[utoipa::path(get, path = "/api/closure/system-check/{id}", tag = "closure", params(("id" = String, Path)),
    responses((status = 200, body = SystemCheckView), (status = 404, body = ErrorBody)))]
async fn get_system_check(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(id): Path<SystemCheckId>,
) -> Result<Json<SystemCheckView>, ApiError> {
    Ok(Json(
        closure::system_check(&state, &session.account_id, &id).await?,
    ))
}

/// Confirm Deletion: the account enters its irreversible cool-down and every session ends.
/// Owner only; needs a recent sign-in, the identity step, a finished system check, the
/// agreement, and every renounceable item renounced behind the risk checkbox.
#[utoipa::path(post, path = "/api/closure", tag = "closure", request_body = ConfirmClosureForm,
    responses(
        (status = 200, body = ClosureStatus, description = "Cooling down; the session cookie is cleared"),
        (status = 403, body = ErrorBody, description = "owner_only, reauth_required, identity_not_verified"),
        (status = 409, body = ErrorBody, description = "closure_blocked, system_check_required"),
        (status = 422, body = ErrorBody, description = "agreement_required, confirmation_required"),
    ))]
async fn confirm(
    State(state): State<AppState>,
    session: CurrentSession,
    Json(form): Json<ConfirmClosureForm>,
) -> Result<Response, ApiError> {
    session.require_recent_sign_in(state.clock.now())?;
    let status = closure::confirm(&state, &session, &form).await?;
    let cookie = auth::clearing_cookie(!state.config.is_dev());
    Ok(([(header::SET_COOKIE, cookie)], Json(status)).into_response())
}

/// Confirm Discard or Release: the selected renounceable items (small balance, small overdue
/// payments, pay-as-you-go instances) are given up now, in one transaction. Owner only; needs
/// a recent sign-in, the identity step and the risk checkbox. Idempotent: an item already
/// renounced is skipped. Answers the closure check as it stands afterwards.
#[utoipa::path(post, path = "/api/closure/renounce", tag = "closure", request_body = RenounceForm,
    responses(
        (status = 200, body = ClosureCheck),
        (status = 403, body = ErrorBody, description = "owner_only, reauth_required, identity_not_verified"),
        (status = 409, body = ErrorBody, description = "closure_blocked: the item must be processed, not renounced"),
        (status = 422, body = ErrorBody, description = "field_required, confirmation_required"),
    ))]
async fn renounce(
    State(state): State<AppState>,
    session: CurrentSession,
    Json(form): Json<RenounceForm>,
) -> Result<Json<ClosureCheck>, ApiError> {
    session.require_recent_sign_in(state.clock.now())?;
    Ok(Json(
        closure::renounce_selected(&state, &session, &form).await?,
    ))
}

/// Pays an unpaid bill with the default payment method. Needs an `Idempotency-Key`.
#[utoipa::path(post, path = "/api/bills/{id}/pay", tag = "closure",
    params(
        ("id" = String, Path),
        ("Idempotency-Key" = String, Header, description = "Unique per payment; reuse it to retry"),
    ),
    responses(
        (status = 200, body = AccountTies),
        (status = 402, body = ErrorBody, description = "payment_declined"),
        (status = 404, body = ErrorBody),
    ))]
async fn pay_bill(
    State(state): State<AppState>,
    session: CurrentSession,
    headers: HeaderMap,
    Path(id): Path<BillId>,
) -> Result<Response, ApiError> {
    idempotency::once(&state, &session, &headers, &id.as_str(), async {
        closure::pay_bill(&state, &session.account_id, &id).await?;
        Ok((
            StatusCode::OK,
            closure::ties(&state, &session.account_id).await?,
        ))
    })
    .await
}

/// Cancels an ICP filing.
#[utoipa::path(post, path = "/api/icp-filings/{id}/cancel", tag = "closure", params(("id" = String, Path)),
    responses((status = 200, body = AccountTies), (status = 404, body = ErrorBody)))]
async fn cancel_icp_filing(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(id): Path<IcpFilingId>,
) -> Result<Json<AccountTies>, ApiError> {
    closure::cancel_icp_filing(&state, &session.account_id, &id).await?;
    Ok(Json(closure::ties(&state, &session.account_id).await?))
}

/// Removes a multi-account relationship.
#[utoipa::path(delete, path = "/api/relationships/{id}", tag = "closure", params(("id" = String, Path)),
    responses((status = 200, body = AccountTies), (status = 404, body = ErrorBody)))]
async fn remove_relationship(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(id): Path<RelationshipId>,
) -> Result<Json<AccountTies>, ApiError> {
    closure::remove_relationship(&state, &session.account_id, &id).await?;
    Ok(Json(closure::ties(&state, &session.account_id).await?))
}

/// Ends the reseller partnership.
#[utoipa::path(delete, path = "/api/reseller-partnership", tag = "closure",
    responses((status = 200, body = AccountTies), (status = 404, body = ErrorBody)))]
async fn end_partnership(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<AccountTies>, ApiError> {
    closure::end_partnership(&state, &session.account_id).await?;
    Ok(Json(closure::ties(&state, &session.account_id).await?))
}
