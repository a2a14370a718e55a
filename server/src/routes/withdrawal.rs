use crate::auth::MemberSession;
use crate::domain::withdrawal;
use crate::error::{ApiError, Json};
use crate::idempotency;
use crate::routes::access::routes;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use shared::ErrorBody;
use shared::api::{Permission, WithdrawalForm, WithdrawalView, WithdrawalsView};
use utoipa_axum::router::OpenApiRouter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, withdraw))
}

/// The Withdraw page: the cash that can be withdrawn (credit and coupons cannot), the cards
/// and PayPal it can go to, and every withdrawal, newest first.
#[utoipa::path(get, path = "/api/withdrawals", tag = "payment",
    responses((status = 200, body = WithdrawalsView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    member: MemberSession,
) -> Result<Json<WithdrawalsView>, ApiError> {
    member.require(Permission::BillingReadOnlyAccess)?;
    Ok(Json(withdrawal::view(&state, &member.0.account_id).await?))
}

/// Withdraws cash from the balance to a card or the PayPal of the account (SPEC §6.5): taken
/// from the balance at once, Processing until the gateway has paid it out, then Paid. Needs a
/// recent sign-in and an `Idempotency-Key`: a retry under the same key withdraws once.
#[utoipa::path(post, path = "/api/withdrawals", tag = "payment", request_body = WithdrawalForm,
    params(
        ("Idempotency-Key" = String, Header, description = "Unique per withdrawal; reuse it to retry"),
    ),
    responses(
        (status = 201, body = WithdrawalView),
        (status = 403, body = ErrorBody, description = "reauth_required, permission_denied, account_closing"),
        (status = 422, body = ErrorBody, description = "field_required, amount_invalid, insufficient_balance (amount); payout_destination_invalid (payment_method_id)"),
    ))]
async fn withdraw(
    State(state): State<AppState>,
    member: MemberSession,
    headers: HeaderMap,
    Json(form): Json<WithdrawalForm>,
) -> Result<Response, ApiError> {
    let work = withdrawal::withdraw(&state, &member.0.account_id, &form);
    idempotency::money_out(&state, &member, &headers, &form, StatusCode::CREATED, work).await
}
