//! Spend and refund history: monthly totals for the chart, and the rows as CSV.

use crate::auth::CurrentSession;
use crate::domain::spending;
use crate::error::{ApiError, Json};
use crate::routes::access::routes;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use shared::ErrorBody;
use shared::api::SpendingView;
use utoipa_axum::router::OpenApiRouter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(months))
        .routes(routes!(export_csv))
}

/// What the account spent (paid orders and usage bills) and had refunded, month by month.
#[utoipa::path(get, path = "/api/spending", tag = "payment",
    responses((status = 200, body = SpendingView), (status = 401, body = ErrorBody)))]
async fn months(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<SpendingView>, ApiError> {
    let rows = spending::rows(&state.db, &session.account_id).await?;
    Ok(Json(spending::by_month(&rows)))
}

/// The account's bills, orders and refunds as a CSV file (a header line, then one line each,
/// oldest first): `type,id,date,description,amount,currency,status`.
#[utoipa::path(get, path = "/api/spending/export.csv", tag = "payment",
    responses((status = 200, description = "A CSV file to download", content_type = "text/csv"), (status = 401, body = ErrorBody)))]
async fn export_csv(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Response, ApiError> {
    let rows = spending::rows(&state.db, &session.account_id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"account-center-spending.csv\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        spending::csv(&rows),
    )
        .into_response())
}
