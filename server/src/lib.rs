//! Account Center server: the router, its state and the background workers, built from a
//! `Config` by [`Application::build`], which the binary, the tests and the shuttle entry
//! point all use.

pub mod acceptance;
pub mod auth;
pub mod batched_reads;
pub mod clock;
pub mod config;
pub mod copy;
pub mod csrf;
pub mod db;
pub mod domain;
pub mod error;
pub mod gateway;
pub mod headers;
pub mod idempotency;
pub mod ids;
pub mod inline_reads;
pub mod jobs;
pub mod metrics;
pub mod notices;
pub mod notify;
pub mod openapi;
pub mod oplog;
pub mod passwords;
pub mod queue;
pub mod rate_limit;
pub mod rates;
pub mod routes;
pub mod secrets;
pub mod state;
pub mod tables;
pub mod twilio;

use crate::clock::Clock;
use crate::config::Config;
use crate::error::ApiError;
use crate::passwords::PasswordHasher;
use crate::secrets::Secrets;
use crate::state::AppState;
use anyhow::Context;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::{any, get};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower::{ServiceBuilder, ServiceExt};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::services::fs::ServeFileSystemResponseBody;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub struct Application {
    listener: TcpListener,
    /// The private listener of `/metrics`, with `--metrics-bind`.
    metrics_listener: Option<TcpListener>,
    router: Router,
    state: AppState,
}

impl Application {
    /// Opens the database (running migrations), binds the ports and starts the workers.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let state = build_state(config).await?;
        let listener = TcpListener::bind(state.config.bind)
            .await
            .with_context(|| format!("cannot listen on {}", state.config.bind))?;
        let metrics_listener = match state.config.metrics_bind {
            Some(address) => Some(
                TcpListener::bind(address)
                    .await
                    .with_context(|| format!("cannot listen on {address} for the metrics"))?,
            ),
            None => None,
        };
        start_workers(&state);
        Ok(Application {
            router: router(state.clone()),
            listener,
            metrics_listener,
            state,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Where `/metrics` is served, with `--metrics-bind`.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().map(|listener| {
            listener
                .local_addr()
                .expect("a bound listener has an address")
        })
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serves until `shutdown` resolves, then finishes the requests in flight. The metrics
    /// listener stops last, so the shutdown's own requests can still be watched.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let metrics_server = self.metrics_listener.map(|listener| {
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let server = axum::serve(listener, metrics::router(self.state.clone()))
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                });
            (stop, tokio::spawn(server.into_future()))
        });
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown)
            .await;
        if let Some((stop, server)) = metrics_server {
            let _ = stop.send(());
            server.await.map_err(std::io::Error::other)??;
        }
        served
    }
}

pub async fn build_state(config: Config) -> anyhow::Result<AppState> {
    config.check()?;
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "cannot create the data folder {}",
            config.data_dir.display()
        )
    })?;
    let db = db::connect_sized(&config.database_url(), config.database_pool_size).await?;
    let inline_reads = inline_reads::InlineReads::for_url(&config.database_url()).map(Arc::new);
    let batched_reads = Arc::new(
        [
            auth::SessionRead::Session,
            auth::SessionRead::SessionAndAccount,
        ]
        .map(|r| r.batcher(&db)),
    );
    let secrets = Secrets::load(&db, &config.key_source()).await?;
    let gateway: Option<Arc<dyn gateway::PaymentGateway>> = if let Some(stripe) = config.stripe()? {
        let timeout = std::time::Duration::from_millis(config.gateway_timeout_ms * 2);
        Some(Arc::new(gateway::stripe::StripeGateway::new(
            &config.stripe_api_url,
            stripe.secret_key.expose().to_owned(),
            timeout,
        )?))
    } else if config.is_dev() {
        let latency = std::time::Duration::from_millis(config.simulator_latency_ms);
        Some(Arc::new(
            gateway::simulator::SimulatedGateway::new(db.clone(), latency)
                .with_faults(config.simulator_fault_percent),
        ))
    } else {
        tracing::warn!("no payment gateway configured: adding payment methods is unavailable");
        None
    };
    let clock = Clock::of_server(&config, &db).await?;
    let outbox = Arc::new(notify::Outbox::from_config(&config)?);
    if config.smtp_url.is_none() && !config.is_dev() {
        tracing::warn!("no SMTP URL configured: emails stay in the outbox undelivered");
    }
    if outbox.twilio().is_none() && !config.is_dev() {
        tracing::warn!("no Twilio configured: SMS and voice codes stay in the outbox undelivered");
    }
    Ok(AppState::new(state::Services {
        outbox,
        gateway,
        acceptance: Arc::new(acceptance::CardAcceptance::shipped()?),
        rates: Arc::new(rates::CnyRates::shipped()?),
        db,
        inline_reads,
        batched_reads,
        clock: Arc::new(clock),
        hasher: PasswordHasher::new()?,
        secrets: Arc::new(secrets),
        config: Arc::new(config),
        metrics: Arc::new(metrics::Metrics::new()),
        job_pass: Arc::default(),
    }))
}

pub fn start_workers(state: &AppState) {
    if state.config.run_scheduler {
        let scheduler = jobs::run_scheduler(state.clone());
        let watched = state.metrics.clone();
        tokio::spawn(async move { metrics::with_write_waits(&watched, scheduler).await });
    }
}

/// The API (with its OpenAPI document at /api/openapi.json), the dev pages in dev mode, and
/// the built app for every other path but `/metrics`, which is served only on the metrics
/// listener (`--metrics-bind`): here it is unknown, as an unknown API path is. Every answer is
/// counted for the metrics.
pub fn router(state: AppState) -> Router {
    let dev = state.config.is_dev();
    let (api, mut openapi) = routes::api(dev).split_for_parts();
    openapi::add_common_answers(&mut openapi);
    let mut openapi = serde_json::to_value(&openapi).expect("the OpenAPI document is JSON");
    openapi::add_links(&mut openapi);
    openapi::add_cross_field_rules(&mut openapi);
    let openapi = Arc::new(openapi);
    let mut app = Router::new()
        .merge(api)
        .route(
            "/api/openapi.json",
            get(move || openapi_json(openapi.clone())),
        )
        .route("/api/{*rest}", any(|| async { ApiError::NotFound }))
        .route("/metrics", any(|| async { ApiError::NotFound }));
    if dev {
        app = app.route("/dev/inbox", get(routes::dev::inbox_page)).route(
            "/sim/paypal/checkout",
            get(routes::sim_paypal::page).post(routes::sim_paypal::consent),
        );
    }
    app.fallback_service(site_service(&state.config.site_dir))
        .layer(CatchPanicLayer::custom(error::panic_answer))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            oplog::with_request_context,
        ))
        .layer(axum::middleware::from_fn(csrf::refuse_cross_site_writes))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("referrer-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            headers::content_security_policy(
                &state.config.site_dir,
                state.config.stripe_publishable_key.is_some(),
            ),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            (!dev).then_some(headers::STRICT_TRANSPORT_SECURITY),
        ))
        // Every log line of a request is written in this span, with the request's id.
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                tracing::info_span!(
                    "request",
                    id = %headers::request_id_of(request),
                    method = %request.method(),
                    uri = %request.uri(),
                )
            }),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.config.trust_proxy,
            headers::with_request_id,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::count_requests,
        ))
        .with_state(state)
}

/// The built app: every file of `site`, and index.html for any other path (the app routes in
/// the browser). `.ci/build-app` writes a brotli and a gzip copy beside each file; a browser
/// that accepts one gets it with its `Content-Encoding` and the original file's content type.
/// `Vary: Accept-Encoding` keeps caches from handing a compressed body to one that does not.
///
/// The app's code lives in `/pkg/<build>/`, a folder named by its content, so a browser may
/// keep it for a year; everything else (index.html, which names the current build, and the
/// stylesheet) is checked again on every visit. Under `/pkg/` a missing file is a 404: the index page in its place
/// would reach the chunk loader as a broken module.
///
/// `/` and `/signin` answer a visitor without a session with `signin.html`: the same page with
/// the sign-in form drawn in it, which can be filled in before the app's code has arrived (the
/// app then takes it over). With a session cookie they answer index.html, as every other
/// address does, and so does a site built without `signin.html`.
fn site_service(site: &Path) -> Router {
    let page = |name: &str| {
        ServeFile::new(site.join(name))
            .precompressed_br()
            .precompressed_gzip()
    };
    let index = page("index.html");
    let files = ServeDir::new(site)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(index.clone());
    let signin_file = site.join("signin.html");
    let signin = page("signin.html");
    let entry = get(move |request: axum::extract::Request| {
        let signed_out = auth::cookie_value(request.headers(), auth::COOKIE).is_none();
        let (index, signin, signin_file) = (index.clone(), signin.clone(), signin_file.clone());
        async move {
            let page = if signed_out && tokio::fs::try_exists(&signin_file).await.unwrap_or(false) {
                signin
            } else {
                index
            };
            (
                [
                    (header::VARY, "cookie"),
                    (header::CACHE_CONTROL, "no-cache"),
                ],
                page.oneshot(request).await,
            )
        }
    });
    let code = ServeDir::new(site.join("pkg"))
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .route("/", entry.clone())
        .route("/signin", entry)
        .nest_service(
            "/pkg",
            ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::overriding(
                    header::CACHE_CONTROL,
                    |response: &axum::http::Response<ServeFileSystemResponseBody>| {
                        response.status().is_success().then(|| {
                            HeaderValue::from_static("public, max-age=31536000, immutable")
                        })
                    },
                ))
                .service(code),
        )
        .fallback_service(
            ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::overriding(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("no-cache"),
                ))
                .service(files),
        )
        .layer(SetResponseHeaderLayer::appending(
            header::VARY,
            HeaderValue::from_static("accept-encoding"),
        ))
}

async fn openapi_json(doc: Arc<serde_json::Value>) -> axum::Json<serde_json::Value> {
    axum::Json(doc.as_ref().clone())
}
