//! Probes for a load balancer or orchestrator: liveness says the process answers, readiness
//! says it can serve (its database answers). An instance that is alive but not ready should be
//! taken out of rotation, not restarted.

use crate::db;
use crate::error::Json;
use crate::routes::access::routes;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use shared::api::{DatabaseState, Health, Serving};
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;

/// How long readiness waits for the database before calling it unreachable.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
}

/// Liveness: the process answers. Touches nothing else.
#[utoipa::path(get, path = "/api/health", tag = "health", responses((status = 200, body = Health)))]
async fn health() -> Json<Health> {
    Json(Health {
        status: Serving::Ok,
        database: None,
    })
}

/// Readiness: the database answers within two seconds; 503 while it does not.
#[utoipa::path(get, path = "/api/ready", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let reachable = tokio::time::timeout(READY_TIMEOUT, db::ping(&state.db))
        .await
        .unwrap_or(false);
    if reachable {
        let body = Health {
            status: Serving::Ok,
            database: Some(DatabaseState::Ok),
        };
        (StatusCode::OK, Json(body))
    } else {
        let body = Health {
            status: Serving::Unavailable,
            database: Some(DatabaseState::Unreachable),
        };
        (StatusCode::SERVICE_UNAVAILABLE, Json(body))
    }
}
