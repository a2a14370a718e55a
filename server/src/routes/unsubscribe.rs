use crate::auth::MemberSession;
use crate::domain::unsubscribe;
use crate::error::{ApiError, Json, Query};
use crate::idempotency;
use crate::ids::UnsubscriptionId;
use crate::routes::access::routes;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use shared::ErrorBody;
use shared::api::{
    Permission, UnsubscribeForm, UnsubscribeList, UnsubscribeQuery, UnsubscribeRecord,
    UnsubscribeRenewalBatchForm, UnsubscribeRenewalForm, Unsubscribed,
};
use utoipa_axum::router::OpenApiRouter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, unsubscribe_resources))
        .routes(routes!(unsubscribe_renewals))
        .routes(routes!(unsubscribe_renewals_batch))
        .routes(routes!(record))
}

/// One tab of the Resource Unsubscription page: active resources, pending renewals, or the
/// history; filtered and paginated, with the refund each would get now.
#[utoipa::path(get, path = "/api/unsubscribe", tag = "unsubscribe", params(UnsubscribeQuery),
    responses((status = 200, body = UnsubscribeList), (status = 400, body = ErrorBody, description = "bad_request: a query the API cannot read, e.g. an unknown sort or direction"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    member: MemberSession,
    Query(query): Query<UnsubscribeQuery>,
) -> Result<Json<UnsubscribeList>, ApiError> {
    member.require(Permission::BillingReadOnlyAccess)?;
    Ok(Json(
        unsubscribe::list(&state, &member.0.account_id, &query).await?,
    ))
}

/// Unsubscribes one resource, or a batch of at most 50 Partial Refund resources. Needs both
/// confirmations, a recent sign-in and an `Idempotency-Key`. Irreversible: the resources are
/// released and their data deleted.
#[utoipa::path(post, path = "/api/unsubscribe", tag = "unsubscribe", request_body = UnsubscribeForm,
    params(
        ("Idempotency-Key" = String, Header, description = "Unique per unsubscription; reuse it to retry"),
    ),
    responses(
        (status = 200, body = Unsubscribed),
        (status = 403, body = ErrorBody, description = "reauth_required, permission_denied"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "already_released, not_unsubscribable"),
        (status = 422, body = ErrorBody, description = "confirmation_required, batch_too_large, batch_mixed_refund_types"),
    ))]
async fn unsubscribe_resources(
    State(state): State<AppState>,
    member: MemberSession,
    headers: HeaderMap,
    Json(form): Json<UnsubscribeForm>,
) -> Result<Response, ApiError> {
    let work = unsubscribe::unsubscribe(&state, &member.0.account_id, &form);
    idempotency::money_out(&state, &member, &headers, &form, StatusCode::OK, work).await
}

/// Cancels pending renewals only, from the chosen one on (its start becomes the updated
/// expiration time). The running period is not affected.
#[utoipa::path(post, path = "/api/unsubscribe/renewals", tag = "unsubscribe", request_body = UnsubscribeRenewalForm,
    params(
        ("Idempotency-Key" = String, Header, description = "Unique per unsubscription; reuse it to retry"),
    ),
    responses(
        (status = 200, body = Unsubscribed),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "confirmation_required"),
    ))]
async fn unsubscribe_renewals(
    State(state): State<AppState>,
    member: MemberSession,
    headers: HeaderMap,
    Json(form): Json<UnsubscribeRenewalForm>,
) -> Result<Response, ApiError> {
    let work = unsubscribe::unsubscribe_renewals(&state, &member.0.account_id, &form);
    idempotency::money_out(&state, &member, &headers, &form, StatusCode::OK, work).await
}

/// The seed's "Batch Refund/Renew": cancels the pending renewals of several instances (at
/// most 50), each from its chosen renewal on, in one transaction. All or none: an instance
/// that cannot be cancelled refuses the batch with its own error, its ID first in the message.
#[utoipa::path(post, path = "/api/unsubscribe/renewals/batch", tag = "unsubscribe", request_body = UnsubscribeRenewalBatchForm,
    params(
        ("Idempotency-Key" = String, Header, description = "Unique per unsubscription; reuse it to retry"),
    ),
    responses(
        (status = 200, body = Unsubscribed),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "confirmation_required, batch_too_large, field_required, bad_request"),
    ))]
async fn unsubscribe_renewals_batch(
    State(state): State<AppState>,
    member: MemberSession,
    headers: HeaderMap,
    Json(form): Json<UnsubscribeRenewalBatchForm>,
) -> Result<Response, ApiError> {
    let work = unsubscribe::unsubscribe_renewals_batch(&state, &member.0.account_id, &form);
    idempotency::money_out(&state, &member, &headers, &form, StatusCode::OK, work).await
}

/// One unsubscription's details: order status, where the refund goes, its time and amount.
#[utoipa::path(get, path = "/api/unsubscribe/records/{id}", tag = "unsubscribe",
    params(("id" = String, Path)),
    responses((status = 200, body = UnsubscribeRecord), (status = 404, body = ErrorBody)))]
async fn record(
    State(state): State<AppState>,
    member: MemberSession,
    Path(id): Path<UnsubscriptionId>,
) -> Result<Json<UnsubscribeRecord>, ApiError> {
    member.require(Permission::BillingReadOnlyAccess)?;
    Ok(Json(
        unsubscribe::record(&state.db, &member.0.account_id, &id).await?,
    ))
}
