use crate::auth::MemberSession;
use crate::domain::account::Writer;
use crate::domain::purchase;
use crate::error::{ApiError, Json};
use crate::idempotency;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use shared::ErrorBody;
use shared::api::{CouponView, InstanceView, Permission, Purchased, RenewForm};
use shared::catalog::PurchaseForm;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(buy))
        .routes(routes!(list_instances))
        .routes(routes!(renew))
        .routes(routes!(activate))
        .routes(routes!(release))
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

/// Releases a pay-as-you-go instance (subscriptions are unsubscribed instead).
#[utoipa::path(post, path = "/api/instances/{id}/release", tag = "resources",
    params(("id" = String, Path)),
    responses((status = 200, body = InstanceView), (status = 404, body = ErrorBody)))]
async fn release(
    State(state): State<AppState>,
    member: MemberSession,
    Path(id): Path<String>,
) -> Result<Json<InstanceView>, ApiError> {
    member.require(Permission::BillingFullAccess)?;
    Ok(Json(
        purchase::release(&state, &member.0.account_id, &id).await?,
    ))
}

/// Buys a subscription (paid now) or starts a pay-as-you-go instance (billed by usage).
/// Needs an `Idempotency-Key`.
#[utoipa::path(post, path = "/api/orders", tag = "resources", request_body = PurchaseForm,
    params(
        ("Idempotency-Key" = String, Header, description = "Unique per purchase; reuse it to retry"),
    ),
    responses(
        (status = 201, body = Purchased),
        (status = 400, body = ErrorBody, description = "idempotency_key_missing"),
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

/// The account's running instances.
#[utoipa::path(get, path = "/api/instances", tag = "resources",
    responses((status = 200, body = Vec<InstanceView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_instances(
    State(state): State<AppState>,
    member: MemberSession,
) -> Result<Json<Vec<InstanceView>>, ApiError> {
    member.require(Permission::BillingReadOnlyAccess)?;
    Ok(Json(
        purchase::instances(&state, &member.0.account_id).await?,
    ))
}

/// Renews a subscription: a paid period after the current one, pending until it begins.
#[utoipa::path(post, path = "/api/instances/{id}/renew", tag = "resources", request_body = RenewForm,
    params(
        ("id" = String, Path),
        ("Idempotency-Key" = String, Header, description = "Unique per renewal; reuse it to retry"),
    ),
    responses(
        (status = 201, body = Purchased), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 402, body = ErrorBody, description = "payment_declined, insufficient_funds, insufficient_balance"),
        (status = 502, body = ErrorBody, description = "gateway_error: the charge could not be made"),
        (status = 504, body = ErrorBody, description = "gateway_timeout"),
    ))]
async fn renew(
    State(state): State<AppState>,
    member: MemberSession,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(form): Json<RenewForm>,
) -> Result<Response, ApiError> {
    member.require(Permission::BillingFullAccess)?;
    let session = &member.0;
    let request = (id.as_str(), &form);
    idempotency::once(&state, session, &headers, &request, async {
        let renewed = purchase::renew(
            &state,
            &session.account_id,
            Writer::Member,
            &id,
            form.period_months,
            form.pay_with,
        )
        .await?;
        Ok((StatusCode::CREATED, renewed))
    })
    .await
}

/// Activates a resource plan.
#[utoipa::path(post, path = "/api/instances/{id}/activate", tag = "resources",
    params(("id" = String, Path)),
    responses((status = 200, body = InstanceView), (status = 404, body = ErrorBody)))]
async fn activate(
    State(state): State<AppState>,
    member: MemberSession,
    Path(id): Path<String>,
) -> Result<Json<InstanceView>, ApiError> {
    member.require(Permission::BillingFullAccess)?;
    Ok(Json(
        purchase::activate(&state, &member.0.account_id, &id).await?,
    ))
}
