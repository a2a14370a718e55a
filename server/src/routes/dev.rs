//! Dev mode only (the router leaves these out in production): the notification inbox and the
//! movable clock, for demos and tests.

use crate::clock::DurationMs;
use crate::error::{ApiError, Json, Query};
use crate::notify::{self, InboxMessage};
use crate::routes::access::routes;
use crate::state::AppState;
use crate::tables::settings;
use axum::extract::State;
use axum::response::Html;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(inbox))
        .routes(routes!(advance_clock))
        .routes(routes!(seed_demo))
        .routes(routes!(run_jobs))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct InboxQuery {
    /// Only messages to this email or E.164 number.
    to: Option<String>,
}

/// Every queued email, SMS and voice message, newest first (at most 200).
#[utoipa::path(get, path = "/api/dev/inbox", tag = "dev", params(InboxQuery),
    responses((status = 200, body = Vec<InboxMessage>)))]
async fn inbox(
    State(state): State<AppState>,
    Query(q): Query<InboxQuery>,
) -> Result<Json<Vec<InboxMessage>>, ApiError> {
    Ok(Json(notify::inbox(&state.db, q.to.as_deref(), 200).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AdvanceClock {
    /// How far to move the server's clock forward.
    #[schema(minimum = 0, maximum = 31_536_000)]
    advance_seconds: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClockNow {
    /// RFC 3339.
    now: String,
}

/// Moves the server's clock forward: codes expire, cool-downs end.
#[utoipa::path(post, path = "/api/dev/clock", tag = "dev", request_body = AdvanceClock,
    responses((status = 200, body = ClockNow), (status = 422, body = shared::ErrorBody)))]
async fn advance_clock(
    State(state): State<AppState>,
    Json(body): Json<AdvanceClock>,
) -> Result<Json<ClockNow>, ApiError> {
    if !(0..=31_536_000).contains(&body.advance_seconds) {
        return Err(shared::Invalid::new(
            shared::ErrorCode::BadRequest,
            "Move the clock forward by 0 s to one year.",
        )
        .at("advance_seconds")
        .into());
    }
    state
        .clock
        .advance(DurationMs::seconds(body.advance_seconds));
    let offset = state.clock.offset().as_millis().to_string();
    settings::set(&state.db, crate::clock::DEV_OFFSET_KEY, &offset).await?;
    Ok(Json(ClockNow {
        now: state.clock.now_utc().to_rfc3339(),
    }))
}

/// `/dev/inbox`: the same messages as a page for people.
pub async fn inbox_page(
    State(state): State<AppState>,
    Query(q): Query<InboxQuery>,
) -> Result<Html<String>, ApiError> {
    let messages = notify::inbox(&state.db, q.to.as_deref(), 200).await?;
    let rows: String = messages
        .iter()
        .map(|m| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><pre>{}</pre></td><td>{}</td></tr>",
                crate::clock::rfc3339(m.created_at),
                escape(&m.channel),
                escape(&m.to),
                escape(&m.subject),
                escape(&m.body),
                escape(&m.status),
            )
        })
        .collect();
    Ok(Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Dev inbox · Account Center</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"stylesheet\" href=\"/main.css\"></head>\
         <body><main class=\"dev-inbox\"><h1>Dev inbox</h1><p>Every email, SMS and voice message the server queued, newest first. \
         This page exists only in dev mode.</p><table><thead><tr><th scope=\"col\">Time</th><th scope=\"col\">Channel</th>\
         <th scope=\"col\">To</th><th scope=\"col\">Subject</th><th scope=\"col\">Message</th><th scope=\"col\">Status</th></tr></thead>\
         <tbody>{rows}</tbody></table></main></body></html>"
    )))
}

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup_in_messages() {
        assert_eq!(
            super::escape("<b a=\"1\">&"),
            "&lt;b a=&quot;1&quot;&gt;&amp;"
        );
    }
}

#[derive(Debug, Deserialize, Serialize, Default, utoipa::ToSchema)]
#[serde(default)]
pub struct SeedDemo {
    /// One-month ECS subscriptions to add beyond the standard mix.
    #[schema(maximum = 10_000)]
    extra: u32,
    /// Also add what blocks a closure: an ICP filing, multi-account relationships, a reseller
    /// partnership, an overdue bill and a cash balance.
    blockers: bool,
    /// Add only the blockers, no subscriptions.
    only_blockers: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Seeded {
    instances: u32,
}

/// Fills the signed-in account with a realistic mix of subscriptions (and a pay-as-you-go
/// instance when it has a payment method).
#[utoipa::path(post, path = "/api/dev/seed-demo", tag = "dev", request_body = SeedDemo,
    responses((status = 200, body = Seeded), (status = 401, body = shared::ErrorBody), (status = 422, body = shared::ErrorBody, description = "bad_request: extra is more than 10,000, or the JSON does not have the request's shape")))]
async fn seed_demo(
    State(state): State<AppState>,
    session: crate::auth::CurrentSession,
    Json(body): Json<SeedDemo>,
) -> Result<Json<Seeded>, ApiError> {
    if body.extra > 10_000 {
        return Err(shared::Invalid::new(
            shared::ErrorCode::BadRequest,
            "Add at most 10,000 extra subscriptions.",
        )
        .at("extra")
        .into());
    }
    let extra = body.extra;
    let instances = if body.only_blockers {
        0
    } else {
        crate::domain::demo::seed(&state, &session.account_id, extra).await?
    };
    if body.blockers || body.only_blockers {
        crate::domain::demo::seed_blockers(&state, &session.account_id).await?;
    }
    Ok(Json(Seeded { instances }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobsRun {
    ran: usize,
}

/// Runs every job that is due by the server's clock now (the scheduler does this each second).
///
/// A pass of the scheduler under way is waited for first: when this answers, those jobs have run.
#[utoipa::path(post, path = "/api/dev/run-jobs", tag = "dev", responses((status = 200, body = JobsRun)))]
async fn run_jobs(State(state): State<AppState>) -> Result<Json<JobsRun>, ApiError> {
    Ok(Json(JobsRun {
        ran: crate::jobs::run_due(&state)
            .await
            .map_err(|e| ApiError::Internal(e.into_inner()))?,
    }))
}
