//! HTTP handlers, one file per flow. Each is documented for the OpenAPI document by the same
//! `utoipa-axum` registration that routes it, so the document cannot miss a route; that
//! registration ([`access::routes!`]) also reads from the handler's extractors whether the
//! route needs a session.

pub mod access;
pub mod billing;
pub mod closure;
pub mod dev;
pub mod health;
pub mod instances;
pub mod orders;
pub mod payment;
pub mod ram;
pub mod security;
pub mod session;
pub mod signup;
pub mod sim_paypal;
pub mod spending;
pub mod unsubscribe;
pub mod webhooks;
pub mod withdrawal;

use crate::state::AppState;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(title = "Account Center API", description = "The JSON API of Account Center. Every error is an `ErrorBody` with a stable `code`. State-changing requests of a signed-in session must send the session's CSRF token in `X-CSRF-Token`."),
    tags(
        (name = "health"), (name = "signup", description = "Sign-up and verification"),
        (name = "session", description = "Sign-in and sign-out"),
        (name = "security", description = "Password reset and change, signed-in sessions"),
        (name = "billing", description = "Billing address, contact verification, real-name registration"),
        (name = "payment", description = "Payment methods, the ledger and withdrawals of the balance"),
        (name = "resources", description = "Buying, renewing and listing resources"),
        (name = "unsubscribe", description = "Unsubscribing prepaid resources for a refund"),
        (name = "ram", description = "RAM users of the account"),
        (name = "closure", description = "Closing the account, and resolving what blocks it"),
        (name = "webhooks", description = "Reports providers post on their own (Stripe, Twilio), trusted by their signature: no session"),
        (name = "dev", description = "Dev mode only: absent in production"),
    )
)]
struct ApiDoc;

/// The API routes and their document. Dev-only routes exist only in dev mode.
pub fn api(dev: bool) -> OpenApiRouter<AppState> {
    let router = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::routes())
        .merge(signup::routes())
        .merge(session::routes())
        .merge(security::routes())
        .merge(billing::routes())
        .merge(payment::routes())
        .merge(orders::routes())
        .merge(unsubscribe::routes())
        .merge(ram::routes())
        .merge(closure::routes())
        .merge(instances::routes())
        .merge(withdrawal::routes())
        .merge(spending::routes())
        .merge(webhooks::routes());
    if dev {
        router.merge(dev::api_routes())
    } else {
        router
    }
}
