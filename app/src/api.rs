//! The one place that builds HTTP requests. Every call answers with the server's typed body or
//! an [`ApiError`] carrying the server's `ErrorBody`, so pages never look at status codes.

use gloo_net::http::{Request, RequestBuilder, Response};
use leptos::lazy;
use serde::Serialize;
use serde::de::DeserializeOwned;
use shared::api::{
    AccountView, BillingAddressView, CodeSent, InstanceView, MethodAdded, PaymentMethodsView,
    PaypalCompleteForm, PaypalStarted, PaytmCodeForm, PaytmForm, Purchased, RamSignInForm,
    RamUserForm, RamUserView, RealNameView, ReauthForm, RenewForm, SendCodeForm, SessionInfo,
    SignInForm, SignupForm, SignupStarted, UnsubscribeForm, UnsubscribeList, UnsubscribeQuery,
    UnsubscribeRecord, UnsubscribeRenewalBatchForm, UnsubscribeRenewalForm, Unsubscribed,
    VerifyForm, WithdrawalForm, WithdrawalView, WithdrawalsView,
};
use shared::billing::{BillingAddress, BillingAddressForm};
use shared::catalog::PurchaseForm;
use shared::payment::{CardForm, CardTokenForm};
use shared::realname::RealNameForm;
use shared::{ErrorBody, ErrorCode};
use std::fmt;

/// A refused or failed request, in the API's own words.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError(pub ErrorBody);

impl ApiError {
    pub fn code(&self) -> ErrorCode {
        self.0.code
    }

    /// The browser never got an answer (offline, server down, blocked).
    fn unreachable() -> Self {
        Self::local(
            ErrorCode::Unknown,
            "We could not reach Account Center. Check your connection and try again.",
        )
    }

    /// An answer that is not the JSON we agreed on, e.g. a proxy's error page.
    fn unexpected(status: u16) -> Self {
        Self::local(
            ErrorCode::Internal,
            format!("Something went wrong on our side (HTTP {status}). Try again in a moment."),
        )
    }

    fn local(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError(ErrorBody {
            code,
            message: message.into(),
            field: None,
            retry_after_seconds: None,
        })
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

// Lets a resource's error travel through an `ErrorBoundary`.
impl std::error::Error for ApiError {}

pub type ApiResult<T> = Result<T, ApiError>;

/// The token of the latest `SessionInfo`; state-changing calls made while signed in must echo it
/// in `X-CSRF-Token`. `None` before sign-in.
pub type Csrf<'a> = Option<&'a str>;

pub async fn start_signup(form: &SignupForm, csrf: Csrf<'_>) -> ApiResult<SignupStarted> {
    send_json(Request::post("/api/signup"), form, csrf).await
}

pub async fn get_signup(id: &str) -> ApiResult<SignupStarted> {
    receive(Request::get(&signup_path(id, "")).send().await).await
}

pub async fn send_code(id: &str, form: &SendCodeForm, csrf: Csrf<'_>) -> ApiResult<CodeSent> {
    send_json(Request::post(&signup_path(id, "/code")), form, csrf).await
}

pub async fn verify(id: &str, form: &VerifyForm, csrf: Csrf<'_>) -> ApiResult<SessionInfo> {
    send_json(Request::post(&signup_path(id, "/verify")), form, csrf).await
}

pub async fn sign_in(form: &SignInForm, csrf: Csrf<'_>) -> ApiResult<SessionInfo> {
    let response = json_request(Request::post("/api/session"), form, csrf)?
        .send()
        .await;
    session_of(response).await
}

/// The signed-in session, or an error with code `unauthenticated`.
pub async fn current_session() -> ApiResult<SessionInfo> {
    session_of(Request::get("/api/session").send().await).await
}

/// A session answer to sign-in or to a page load, the two the first load makes. Its body is
/// parsed in a chunk of its own ([`parse_session`]): the first load then carries no parser for
/// the account view, nor the decimal one its credit balance needs (the first-load size budget).
///
/// An accepted session is followed by the console (but for an account in its cool-down), so
/// the console's chunk is fetched at once, beside the reader's: a first visit waits for one
/// round trip of chunks instead of two. Once fetched, a chunk is not fetched again.
async fn session_of(response: Result<Response, gloo_net::Error>) -> ApiResult<SessionInfo> {
    let (status, body) = receive_text(response).await?;
    leptos::task::spawn_local(crate::flows::preload_console());
    parse_session(status, body).await
}

#[lazy]
fn parse_session(status: u16, body: String) -> ApiResult<SessionInfo> {
    serde_json::from_str(&body).map_err(|_| ApiError::unexpected(status))
}

pub async fn sign_out(csrf: Csrf<'_>) -> ApiResult<()> {
    no_content(
        with_csrf(Request::delete("/api/session"), csrf)
            .send()
            .await,
    )
    .await
}

/// The id comes from the address bar: keep it to one path segment.
fn signup_path(id: &str, rest: &str) -> String {
    format!("/api/signup/{}{rest}", segment(id))
}

/// An id from the address bar or a list, kept to one harmless path segment.
fn segment(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect()
}

/// Names one attempt of a request that moves money. The server keeps the first answer to a
/// key, so sending the same attempt again (after a lost answer, or a password prompt) never
/// charges or refunds twice. Make a new key for each new attempt, never for a retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// A random UUID (version 4). `crypto.getRandomValues` rather than `randomUUID`, which
    /// browsers offer only on HTTPS and localhost.
    pub fn new() -> Self {
        let mut bytes = [0u8; 16];
        let filled = web_sys::window()
            .and_then(|w| w.crypto().ok())
            .map(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok())
            .unwrap_or(false);
        if !filled {
            // No Web Crypto (very old browser): the time still makes a collision unlikely
            // within one account, which is the scope of a key.
            let now = web_sys::js_sys::Date::now().to_bits().to_le_bytes();
            let random = web_sys::js_sys::Math::random().to_bits().to_le_bytes();
            bytes[..8].copy_from_slice(&now);
            bytes[8..].copy_from_slice(&random);
        }
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Self(format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        ))
    }
}

/// The body of a POST that carries nothing but its path: `{}`.
#[derive(Serialize)]
struct Empty {}

fn with_key(request: RequestBuilder, key: &IdempotencyKey) -> RequestBuilder {
    request.header("Idempotency-Key", &key.0)
}

// ---------- re-authentication and RAM users' sign-in ----------

/// The password again, for a step that needs a recent sign-in.
pub async fn reauthenticate(form: &ReauthForm, csrf: Csrf<'_>) -> ApiResult<SessionInfo> {
    send_json(Request::post("/api/session/reauth"), form, csrf).await
}

pub async fn sign_in_ram_user(form: &RamSignInForm, csrf: Csrf<'_>) -> ApiResult<SessionInfo> {
    send_json(Request::post("/api/session/ram"), form, csrf).await
}

// ---------- billing address, contact channel, real name ----------

pub async fn billing_address() -> ApiResult<BillingAddressView> {
    receive(Request::get("/api/billing-address").send().await).await
}

pub async fn save_billing_address(
    form: &BillingAddressForm,
    csrf: Csrf<'_>,
) -> ApiResult<BillingAddress> {
    send_json(Request::put("/api/billing-address"), form, csrf).await
}

pub async fn send_contact_code(form: &SendCodeForm, csrf: Csrf<'_>) -> ApiResult<CodeSent> {
    send_json(Request::post("/api/account/contact/code"), form, csrf).await
}

pub async fn verify_contact(form: &VerifyForm, csrf: Csrf<'_>) -> ApiResult<AccountView> {
    send_json(Request::post("/api/account/contact/verify"), form, csrf).await
}

pub async fn real_name() -> ApiResult<RealNameView> {
    receive(Request::get("/api/real-name").send().await).await
}

pub async fn register_real_name(form: &RealNameForm, csrf: Csrf<'_>) -> ApiResult<RealNameView> {
    send_json(Request::post("/api/real-name"), form, csrf).await
}

// ---------- payment methods ----------

pub async fn payment_methods() -> ApiResult<PaymentMethodsView> {
    receive(Request::get("/api/payment-methods").send().await).await
}

pub async fn add_card(
    form: &CardForm,
    csrf: Csrf<'_>,
    key: &IdempotencyKey,
) -> ApiResult<MethodAdded> {
    send_json(
        with_key(Request::post("/api/payment-methods/cards"), key),
        form,
        csrf,
    )
    .await
}

/// A card tokenized by Stripe.js: its token and the holder's fields.
pub async fn add_card_token(
    form: &CardTokenForm,
    csrf: Csrf<'_>,
    key: &IdempotencyKey,
) -> ApiResult<MethodAdded> {
    send_json(
        with_key(Request::post("/api/payment-methods/card-tokens"), key),
        form,
        csrf,
    )
    .await
}

pub async fn start_paypal(csrf: Csrf<'_>) -> ApiResult<PaypalStarted> {
    send_json(
        Request::post("/api/payment-methods/paypal"),
        &Empty {},
        csrf,
    )
    .await
}

pub async fn complete_paypal(form: &PaypalCompleteForm, csrf: Csrf<'_>) -> ApiResult<MethodAdded> {
    send_json(
        Request::post("/api/payment-methods/paypal/complete"),
        form,
        csrf,
    )
    .await
}

pub async fn send_paytm_code(form: &PaytmCodeForm, csrf: Csrf<'_>) -> ApiResult<CodeSent> {
    send_json(Request::post("/api/payment-methods/paytm/code"), form, csrf).await
}

pub async fn add_paytm(form: &PaytmForm, csrf: Csrf<'_>) -> ApiResult<MethodAdded> {
    send_json(Request::post("/api/payment-methods/paytm"), form, csrf).await
}

pub async fn set_default_method(id: &str, csrf: Csrf<'_>) -> ApiResult<PaymentMethodsView> {
    let path = format!("/api/payment-methods/{}/default", segment(id));
    send_json(Request::post(&path), &Empty {}, csrf).await
}

pub async fn remove_method(id: &str, csrf: Csrf<'_>) -> ApiResult<PaymentMethodsView> {
    let path = format!("/api/payment-methods/{}", segment(id));
    receive(with_csrf(Request::delete(&path), csrf).send().await).await
}

// ---------- buying and instances ----------

pub async fn buy(
    form: &PurchaseForm,
    csrf: Csrf<'_>,
    key: &IdempotencyKey,
) -> ApiResult<Purchased> {
    send_json(with_key(Request::post("/api/orders"), key), form, csrf).await
}

pub async fn instances() -> ApiResult<Vec<InstanceView>> {
    receive(Request::get("/api/instances").send().await).await
}

pub async fn renew(
    id: &str,
    form: &RenewForm,
    csrf: Csrf<'_>,
    key: &IdempotencyKey,
) -> ApiResult<Purchased> {
    let path = format!("/api/instances/{}/renew", segment(id));
    send_json(with_key(Request::post(&path), key), form, csrf).await
}

pub async fn activate(id: &str, csrf: Csrf<'_>) -> ApiResult<InstanceView> {
    let path = format!("/api/instances/{}/activate", segment(id));
    send_json(Request::post(&path), &Empty {}, csrf).await
}

pub async fn release(id: &str, csrf: Csrf<'_>) -> ApiResult<InstanceView> {
    let path = format!("/api/instances/{}/release", segment(id));
    send_json(Request::post(&path), &Empty {}, csrf).await
}

// ---------- unsubscription ----------

pub async fn unsubscribe_list(query: &UnsubscribeQuery) -> ApiResult<UnsubscribeList> {
    let tab = match query.tab {
        shared::api::UnsubscribeTab::Resource => "resource",
        shared::api::UnsubscribeTab::Renewal => "renewal",
        shared::api::UnsubscribeTab::Records => "records",
    };
    let kind = query.kind.map(|k| match k {
        shared::refund::ResourceKind::RegularCloudResource => "regular_cloud_resource",
        shared::refund::ResourceKind::ResourcePlan => "resource_plan",
    });
    let refund_type = query.refund_type.map(shared::refund::RefundType::as_str);
    let activated = query.activated.map(|a| if a { "true" } else { "false" });
    let page = query.page.map(|p| p.to_string());
    let page_size = query.page_size.map(|p| p.to_string());
    let pairs = [
        ("tab", Some(tab)),
        ("product", query.product.as_deref()),
        ("instance_id", query.instance_id.as_deref()),
        ("order_from", query.order_from.as_deref()),
        ("order_to", query.order_to.as_deref()),
        ("kind", kind),
        ("refund_type", refund_type),
        ("activated", activated),
        ("sort", query.sort.map(shared::api::ResourceSort::as_str)),
        (
            "direction",
            query.direction.map(shared::api::SortDirection::as_str),
        ),
        ("page", page.as_deref()),
        ("page_size", page_size.as_deref()),
    ];
    let request = Request::get("/api/unsubscribe").query(
        pairs
            .into_iter()
            .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| (k, v))),
    );
    receive(request.send().await).await
}

// ---------- withdrawals of the balance ----------

/// Spend and refunds by month.
pub async fn spending() -> ApiResult<shared::api::SpendingView> {
    receive(Request::get("/api/spending").send().await).await
}

pub async fn withdrawals() -> ApiResult<WithdrawalsView> {
    receive(Request::get("/api/withdrawals").send().await).await
}

pub async fn withdraw(
    form: &WithdrawalForm,
    csrf: Csrf<'_>,
    key: &IdempotencyKey,
) -> ApiResult<WithdrawalView> {
    send_json(with_key(Request::post("/api/withdrawals"), key), form, csrf).await
}

pub async fn unsubscribe(
    form: &UnsubscribeForm,
    csrf: Csrf<'_>,
    key: &IdempotencyKey,
) -> ApiResult<Unsubscribed> {
    send_json(with_key(Request::post("/api/unsubscribe"), key), form, csrf).await
}

pub async fn unsubscribe_renewals(
    form: &UnsubscribeRenewalForm,
    csrf: Csrf<'_>,
    key: &IdempotencyKey,
) -> ApiResult<Unsubscribed> {
    send_json(
        with_key(Request::post("/api/unsubscribe/renewals"), key),
        form,
        csrf,
    )
    .await
}

pub async fn unsubscribe_renewals_batch(
    form: &UnsubscribeRenewalBatchForm,
    csrf: Csrf<'_>,
    key: &IdempotencyKey,
) -> ApiResult<Unsubscribed> {
    send_json(
        with_key(Request::post("/api/unsubscribe/renewals/batch"), key),
        form,
        csrf,
    )
    .await
}

pub async fn unsubscribe_record(id: &str) -> ApiResult<UnsubscribeRecord> {
    let path = format!("/api/unsubscribe/records/{}", segment(id));
    receive(Request::get(&path).send().await).await
}

// ---------- account security (SPEC §1) ----------

pub async fn start_password_reset(
    form: &shared::api::PasswordResetForm,
) -> ApiResult<shared::api::PasswordResetStarted> {
    send_json(Request::post("/api/password-reset"), form, None).await
}

pub async fn resend_password_reset_code(id: &str) -> ApiResult<CodeSent> {
    let path = format!("/api/password-reset/{}/code", segment(id));
    send_json(Request::post(&path), &Empty {}, None).await
}

pub async fn complete_password_reset(
    id: &str,
    form: &shared::api::ResetPasswordForm,
) -> ApiResult<()> {
    let path = format!("/api/password-reset/{}", segment(id));
    send_json_no_content(Request::post(&path), form, None).await
}

pub async fn change_password(
    form: &shared::api::ChangePasswordForm,
    csrf: Csrf<'_>,
) -> ApiResult<()> {
    send_json_no_content(Request::put("/api/account/password"), form, csrf).await
}

pub async fn sessions() -> ApiResult<shared::api::SessionList> {
    receive(Request::get("/api/sessions").send().await).await
}

pub async fn sign_out_session(id: &str, csrf: Csrf<'_>) -> ApiResult<()> {
    let path = format!("/api/sessions/{}", segment(id));
    no_content(with_csrf(Request::delete(&path), csrf).send().await).await
}

/// The second step of a sign-in that asked for it; the HttpOnly cookie names the sign-in.
pub async fn sign_in_two_step(form: &shared::api::TwoStepCodeForm) -> ApiResult<SessionInfo> {
    let response = json_request(Request::post("/api/session/two-step"), form, None)?
        .send()
        .await;
    session_of(response).await
}

pub async fn two_step_status() -> ApiResult<shared::api::TwoStepStatus> {
    receive(Request::get("/api/account/two-step").send().await).await
}

pub async fn two_step_setup(csrf: Csrf<'_>) -> ApiResult<shared::api::TwoStepSetup> {
    send_json(
        Request::post("/api/account/two-step/setup"),
        &Empty {},
        csrf,
    )
    .await
}

pub async fn two_step_enable(
    form: &shared::api::TwoStepCodeForm,
    csrf: Csrf<'_>,
) -> ApiResult<shared::api::TwoStepEnabled> {
    send_json(Request::post("/api/account/two-step/enable"), form, csrf).await
}

pub async fn two_step_disable(
    form: &shared::api::TwoStepDisableForm,
    csrf: Csrf<'_>,
) -> ApiResult<()> {
    send_json_no_content(Request::post("/api/account/two-step/disable"), form, csrf).await
}

pub async fn verify_closure_identity_by_authenticator(
    form: &shared::api::TwoStepCodeForm,
    csrf: Csrf<'_>,
) -> ApiResult<()> {
    send_json_no_content(
        Request::post("/api/closure/identity/authenticator"),
        form,
        csrf,
    )
    .await
}

pub async fn operation_log(
    query: &shared::api::OperationLogQuery,
) -> ApiResult<shared::api::OperationLog> {
    let mut request = Request::get("/api/operation-log");
    if let Some(category) = query.category {
        request = request.query([("category", category.as_str())]);
    }
    if let Some(page) = query.page {
        request = request.query([("page", page.to_string())]);
    }
    receive(request.send().await).await
}

pub async fn sign_out_other_sessions(csrf: Csrf<'_>) -> ApiResult<shared::api::SignedOut> {
    send_json(
        Request::post("/api/sessions/sign-out-others"),
        &Empty {},
        csrf,
    )
    .await
}

// ---------- RAM users ----------

pub async fn ram_users() -> ApiResult<Vec<RamUserView>> {
    receive(Request::get("/api/ram-users").send().await).await
}

pub async fn create_ram_user(form: &RamUserForm, csrf: Csrf<'_>) -> ApiResult<RamUserView> {
    send_json(Request::post("/api/ram-users"), form, csrf).await
}

pub async fn delete_ram_user(id: &str, csrf: Csrf<'_>) -> ApiResult<()> {
    let path = format!("/api/ram-users/{}", segment(id));
    no_content(with_csrf(Request::delete(&path), csrf).send().await).await
}

fn with_csrf(request: RequestBuilder, csrf: Csrf<'_>) -> RequestBuilder {
    match csrf {
        Some(token) => request.header("X-CSRF-Token", token),
        None => request,
    }
}

async fn send_json<B: Serialize, T: DeserializeOwned>(
    request: RequestBuilder,
    body: &B,
    csrf: Csrf<'_>,
) -> ApiResult<T> {
    receive(json_request(request, body, csrf)?.send().await).await
}

/// For calls that send a JSON body and answer 204 with none.
async fn send_json_no_content<B: Serialize>(
    request: RequestBuilder,
    body: &B,
    csrf: Csrf<'_>,
) -> ApiResult<()> {
    no_content(json_request(request, body, csrf)?.send().await).await
}

/// The request with its CSRF token and `body` as JSON.
fn json_request<B: Serialize>(
    request: RequestBuilder,
    body: &B,
    csrf: Csrf<'_>,
) -> ApiResult<Request> {
    with_csrf(request, csrf)
        .json(body)
        .map_err(|_| ApiError::local(ErrorCode::BadRequest, "This form could not be sent."))
}

/// A successful answer's JSON body as `T`; a refusal as the server's `ErrorBody`. Only the
/// parsing is generic: the waiting is in [`receive_text`], once in the module for every `T`.
async fn receive<T: DeserializeOwned>(response: Result<Response, gloo_net::Error>) -> ApiResult<T> {
    let (status, body) = receive_text(response).await?;
    serde_json::from_str(&body).map_err(|_| ApiError::unexpected(status))
}

/// The status and body text of a successful answer; a refusal as the server's `ErrorBody`.
async fn receive_text(response: Result<Response, gloo_net::Error>) -> ApiResult<(u16, String)> {
    let response = response.map_err(|_| ApiError::unreachable())?;
    if !response.ok() {
        return Err(error_of(&response).await);
    }
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|_| ApiError::unexpected(status))?;
    Ok((status, body))
}

async fn error_of(response: &Response) -> ApiError {
    let status = response.status();
    match response.text().await {
        Ok(body) => serde_json::from_str(&body)
            .map(ApiError)
            .unwrap_or_else(|_| ApiError::unexpected(status)),
        Err(_) => ApiError::unexpected(status),
    }
}

// ---------- account closure (SPEC §6) ----------

/// Whether the account is cooling down, how long is left, and how a failed closure ended.
pub async fn closure_status() -> ApiResult<shared::api::ClosureStatus> {
    receive(Request::get("/api/closure").send().await).await
}

pub async fn closure_check() -> ApiResult<shared::closure::ClosureCheck> {
    receive(Request::get("/api/closure/check").send().await).await
}

/// Bills, ICP filings, relationships, reseller partner and balance: what the resolve page shows.
pub async fn closure_ties() -> ApiResult<shared::api::AccountTies> {
    receive(Request::get("/api/closure/ties").send().await).await
}

/// The one-click backup: bills, orders, refunds, invoices and the ledger, as the JSON text the
/// server wrote (kept byte for byte, so the file is exactly what the server exported).
pub async fn closure_export() -> ApiResult<String> {
    let (_, body) = receive_text(Request::get("/api/closure/export").send().await).await?;
    Ok(body)
}

/// Sends the identity code by SMS to the account's verified mobile number.
pub async fn send_closure_code(csrf: Csrf<'_>) -> ApiResult<CodeSent> {
    send_json(Request::post("/api/closure/identity/code"), &Empty {}, csrf).await
}

pub async fn verify_closure_identity(form: &VerifyForm, csrf: Csrf<'_>) -> ApiResult<()> {
    send_json_no_content(Request::post("/api/closure/identity/verify"), form, csrf).await
}

/// The simulated Alipay authorization, for accounts with real-name registration.
pub async fn authorize_closure_with_alipay(csrf: Csrf<'_>) -> ApiResult<()> {
    send_json_no_content(
        Request::post("/api/closure/identity/alipay"),
        &Empty {},
        csrf,
    )
    .await
}

pub async fn start_system_check(csrf: Csrf<'_>) -> ApiResult<shared::api::SystemCheckView> {
    send_json(Request::post("/api/closure/system-check"), &Empty {}, csrf).await
}

pub async fn system_check(id: &str) -> ApiResult<shared::api::SystemCheckView> {
    let path = format!("/api/closure/system-check/{}", segment(id));
    receive(Request::get(&path).send().await).await
}

/// Confirm Discard or Release: the selected renounceable items are given up now; answers the
/// closure check as it stands afterwards.
pub async fn renounce_closure_items(
    form: &shared::api::RenounceForm,
    csrf: Csrf<'_>,
) -> ApiResult<shared::closure::ClosureCheck> {
    send_json(Request::post("/api/closure/renounce"), form, csrf).await
}

/// Confirm Deletion. On success the server has ended every session of the account.
pub async fn confirm_closure(
    form: &shared::api::ConfirmClosureForm,
    csrf: Csrf<'_>,
) -> ApiResult<shared::api::ClosureStatus> {
    send_json(Request::post("/api/closure"), form, csrf).await
}

/// Pays an unpaid bill with the default payment method. The key makes a retry after a lost
/// answer harmless, as for every request that moves money.
pub async fn pay_bill(
    id: &str,
    csrf: Csrf<'_>,
    key: &IdempotencyKey,
) -> ApiResult<shared::api::AccountTies> {
    let path = format!("/api/bills/{}/pay", segment(id));
    send_json(with_key(Request::post(&path), key), &Empty {}, csrf).await
}

pub async fn cancel_icp_filing(id: &str, csrf: Csrf<'_>) -> ApiResult<shared::api::AccountTies> {
    let path = format!("/api/icp-filings/{}/cancel", segment(id));
    send_json(Request::post(&path), &Empty {}, csrf).await
}

pub async fn remove_relationship(id: &str, csrf: Csrf<'_>) -> ApiResult<shared::api::AccountTies> {
    let path = format!("/api/relationships/{}", segment(id));
    receive(with_csrf(Request::delete(&path), csrf).send().await).await
}

pub async fn end_reseller_partnership(csrf: Csrf<'_>) -> ApiResult<shared::api::AccountTies> {
    receive(
        with_csrf(Request::delete("/api/reseller-partnership"), csrf)
            .send()
            .await,
    )
    .await
}

pub async fn transfer_domain_out(id: &str, csrf: Csrf<'_>) -> ApiResult<()> {
    let path = format!("/api/instances/{}/transfer-out", segment(id));
    send_json_no_content(Request::post(&path), &Empty {}, csrf).await
}

pub async fn set_auto_renew(id: &str, enabled: bool, csrf: Csrf<'_>) -> ApiResult<()> {
    #[derive(Serialize)]
    struct AutoRenew {
        enabled: bool,
    }
    let path = format!("/api/instances/{}/auto-renew", segment(id));
    send_json_no_content(Request::post(&path), &AutoRenew { enabled }, csrf).await
}

/// For calls that answer 204 with no body.
async fn no_content(response: Result<Response, gloo_net::Error>) -> ApiResult<()> {
    let response = response.map_err(|_| ApiError::unreachable())?;
    if response.ok() {
        Ok(())
    } else {
        Err(error_of(&response).await)
    }
}
