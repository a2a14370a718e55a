use crate::auth::MemberSession;
use crate::domain::purchase;
use crate::error::{ApiError, Json};
use crate::idempotency;
use crate::routes::access::routes;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use shared::ErrorBody;
use shared::api::{CouponView, Permission, Purchased};
use shared::catalog::PurchaseForm;
use utoipa_axum::router::OpenApiRouter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(buy))
        .routes(routes!(list_coupons))
}

/// The account's usable coupons.
#[utoipa::path(get, path = "/api/coupons", tag = "resources",
    responses((status = 200, body = Vec<CouponView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_coupons(
    State(state): State<AppState>,
    member: MemberSession,
) -> Result<Json<Vec<CouponView>>, ApiError> {
    member.require(Permission::BillingReadOnlyAccess)?;
    Ok(Json(purchase::coupons(&state, &member.0.account_id).await?))
}

/// Buys a subscription (paid now) or starts a pay-as-you-go instance (billed by usage).
/// Needs an `Idempotency-Key`.
#[utoipa::path(post, path = "/api/orders", tag = "resources", request_body = PurchaseForm,
    params(
        ("Idempotency-Key" = String, Header, description = "Unique per purchase; reuse it to retry"),
    ),
    responses(
        (status = 201, body = Purchased),
        (status = 402, body = ErrorBody, description = "payment_declined, insufficient_funds, insufficient_balance"),
        (status = 403, body = ErrorBody, description = "permission_denied"),
        (status = 409, body = ErrorBody, description = "billing_address_required, payment_method_required, real_name_required"),
        (status = 422, body = ErrorBody, description = "invalid_product"),
        (status = 502, body = ErrorBody, description = "gateway_error: the charge could not be made"),
        (status = 504, body = ErrorBody, description = "gateway_timeout"),
    ))]
async fn buy(
    State(state): State<AppState>,
    member: MemberSession,
    headers: HeaderMap,
    Json(form): Json<PurchaseForm>,
) -> Result<Response, ApiError> {
    member.require(Permission::BillingFullAccess)?;
    let session = &member.0;
    idempotency::once(&state, session, &headers, &form, async {
        let bought = purchase::purchase(&state, &session.account_id, form.parse()?).await?;
        Ok((StatusCode::CREATED, bought))
    })
    .await
}
