//! `/api/instances` and everything done to one instance: the list, renewing, activating a
//! plan, releasing pay-as-you-go, auto-renewal, and transferring a domain name out.

use crate::auth::{CurrentSession, MemberSession};
use crate::domain::account::Writer;
use crate::domain::{closure, purchase};
use crate::error::{ApiError, Json};
use crate::idempotency;
use crate::ids::InstanceId;
use crate::routes::access::routes;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use shared::ErrorBody;
use shared::api::{InstanceView, Permission, Purchased, RenewForm};
use utoipa_axum::router::OpenApiRouter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_instances))
        .routes(routes!(renew))
        .routes(routes!(activate))
        .routes(routes!(release))
        .routes(routes!(transfer_domain_out))
        .routes(routes!(set_auto_renew))
}

/// Releases a pay-as-you-go instance (subscriptions are unsubscribed instead).
#[utoipa::path(post, path = "/api/instances/{id}/release", tag = "resources",
    params(("id" = String, Path)),
    responses((status = 200, body = InstanceView), (status = 404, body = ErrorBody)))]
async fn release(
    State(state): State<AppState>,
    member: MemberSession,
    Path(id): Path<InstanceId>,
) -> Result<Json<InstanceView>, ApiError> {
    member.require(Permission::BillingFullAccess)?;
    Ok(Json(
        purchase::release(&state, &member.0.account_id, &id).await?,
    ))
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
    Path(id): Path<InstanceId>,
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
    Path(id): Path<InstanceId>,
) -> Result<Json<InstanceView>, ApiError> {
    member.require(Permission::BillingFullAccess)?;
    Ok(Json(
        purchase::activate(&state, &member.0.account_id, &id).await?,
    ))
}

/// Transfers a domain name out of the account.
#[utoipa::path(post, path = "/api/instances/{id}/transfer-out", tag = "closure", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn transfer_domain_out(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(id): Path<InstanceId>,
) -> Result<StatusCode, ApiError> {
    closure::transfer_domain_out(&state, &session.account_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AutoRenew {
    enabled: bool,
}

/// Turns a subscription's auto-renewal on or off.
#[utoipa::path(post, path = "/api/instances/{id}/auto-renew", tag = "closure", request_body = AutoRenew,
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn set_auto_renew(
    State(state): State<AppState>,
    session: CurrentSession,
    Path(id): Path<InstanceId>,
    Json(body): Json<AutoRenew>,
) -> Result<StatusCode, ApiError> {
    closure::set_auto_renew(&state, &session.account_id, &id, body.enabled).await?;
    Ok(StatusCode::NO_CONTENT)
}
