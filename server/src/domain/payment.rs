//! Payment methods (SPEC §3): bank cards verified by a 1.00 pre-authorization hold, PayPal by
//! an approval at PayPal, Paytm by a code to its phone. The first verified method brings the
//! free credit, once per account and once per card, PayPal or Paytm identity.

use crate::acceptance::CardType;
use crate::clock::{DurationMs, Millis, rfc3339};
use crate::db::{self, Tx};
use crate::domain::account::{self, Writer};
use crate::domain::ledger::{Bucket, LedgerKind};
use crate::domain::verification;
use crate::domain::{billing, intent};
use crate::error::ApiError;
use crate::gateway::{CardCheck, CardEntry, CardSource, PaymentGateway};
use crate::ids::PaymentMethodId;
use crate::oplog::{self, Operation};
use crate::secrets::Secrets;
use crate::state::AppState;
use crate::tables::ledger_entries::{self, Entry};
use crate::tables::{billing_addresses, free_credit_identities, payment_methods, paypal_approvals};
use chrono::{TimeZone, Utc};
use shared::account::{Channel, Delivery, Phone, VerificationCode};
use shared::api::LoggedPaymentMethod;
use shared::api::{
    CardEntry as CardEntryView, CodeSent, MethodAdded, PaymentMethodKind, PaymentMethodView,
    PaymentMethodsView, PaypalStarted,
};
use shared::country::Country;
use shared::money::{Currency, Money};
use shared::payment::{Card, CardBrand, CardForm, CardHolder, CardNumber, Expiry};
use std::sync::Arc;

/// The one-time credit the first verified payment method brings.
pub fn free_credit() -> Money {
    Money::from_minor(30_000, Currency::USD)
}

/// Midnight UTC at the start of that day.
fn midnight_utc(y: i32, m: u32, d: u32) -> Millis {
    Millis(
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0)
            .single()
            .map_or(0, |t| t.timestamp_millis()),
    )
}

/// Paytm is the only method for India accounts registered after 2019-07-29, and unavailable to
/// every other account (seed 000).
pub fn available_kinds(country: Country, registered_at: Millis) -> Vec<PaymentMethodKind> {
    if country.code() == "IN" && registered_at >= midnight_utc(2019, 7, 30) {
        vec![PaymentMethodKind::Paytm]
    } else {
        vec![PaymentMethodKind::Card, PaymentMethodKind::Paypal]
    }
}

/// 1.00 USD, or 1.00 MYR for Malaysian accounts registered after 2019-10-08 (seed 000).
pub fn verification_hold(country: Country, registered_at: Millis) -> Money {
    let currency = if country.code() == "MY" && registered_at >= midnight_utc(2019, 10, 9) {
        Currency::MYR
    } else {
        Currency::USD
    };
    Money::from_minor(100, currency)
}

/// An account that may add a method of `kind`: the method is offered to it, and it has its
/// billing address (SPEC §2: the address comes before any payment method). Only
/// [`Allowed::check`] makes one and [`bind`] needs one, so no way of adding a method, existing
/// or added later, skips these rules. Each way checks before anything happens (a code sent, a
/// hold placed, a trip to PayPal).
struct Allowed {
    kind: PaymentMethodKind,
    country: Country,
    registered_at: Millis,
}

impl Allowed {
    async fn check(
        state: &AppState,
        account_id: &str,
        kind: PaymentMethodKind,
    ) -> Result<Self, ApiError> {
        let (country, registered_at) = account::country_and_created(&state.db, account_id).await?;
        // Offered first: an address would not make a method that is not offered available.
        if !available_kinds(country, registered_at).contains(&kind) {
            return Err(ApiError::PaymentMethodNotAvailable(match kind {
                PaymentMethodKind::Paytm => {
                    "Paytm is available only to accounts registered in India.".into()
                }
                _ => "Accounts registered in India after 2019-07-29 pay with Paytm.".into(),
            }));
        }
        if let Some(gateway) = &state.gateway
            && !gateway.takes(kind)
        {
            return Err(ApiError::PaymentMethodNotAvailable(format!(
                "The payment gateway of this server does not take {}.",
                match kind {
                    PaymentMethodKind::Card => "cards",
                    PaymentMethodKind::Paypal => "PayPal",
                    PaymentMethodKind::Paytm => "Paytm",
                }
            )));
        }
        billing::require_address(&state.db, account_id).await?;
        Ok(Self {
            kind,
            country,
            registered_at,
        })
    }
}

fn gateway(state: &AppState) -> Result<&Arc<dyn PaymentGateway>, ApiError> {
    state.gateway.as_ref().ok_or_else(|| {
        ApiError::PaymentMethodNotAvailable(
            "This server has no payment gateway configured, so payment methods cannot be added."
                .into(),
        )
    })
}

fn view(method: payment_methods::Method) -> PaymentMethodView {
    PaymentMethodView {
        kind: method.kind.0,
        brand: method.brand.as_deref().and_then(CardBrand::parse),
        expiry: method
            .exp_month
            .zip(method.exp_year)
            .map(|(m, y)| format!("{m:02}/{:02}", y % 100)),
        id: method.id,
        label: method.label,
        holder_name: method.holder_name,
        is_default: method.is_default,
        created_at: rfc3339(method.created_at),
    }
}

pub async fn list(state: &AppState, account_id: &str) -> Result<PaymentMethodsView, ApiError> {
    let (country, registered) = account::country_and_created(&state.db, account_id).await?;
    let methods = payment_methods::list(&state.db, account_id).await?;
    let granted = ledger_entries::free_credit_granted(&state.db, account_id).await?;
    Ok(PaymentMethodsView {
        methods: methods.into_iter().map(view).collect(),
        // What is offered and what this server's gateway takes (Stripe: cards alone).
        available: available_kinds(country, registered)
            .into_iter()
            .filter(|kind| state.gateway.as_ref().is_none_or(|g| g.takes(*kind)))
            .collect(),
        accepted_brands: state.acceptance.brands_for(country.code()).to_vec(),
        billing_address_added: billing_addresses::get(&state.db, account_id)
            .await?
            .is_some(),
        verification_hold: verification_hold(country, registered),
        card_entry: match &state.config.stripe_publishable_key {
            Some(key) => CardEntryView::Stripe {
                publishable_key: key.clone(),
                script_url: crate::headers::STRIPE_JS.to_owned(),
            },
            None => CardEntryView::Form,
        },
        free_credit: free_credit(),
        free_credit_granted: granted,
    })
}

/// What a new method row holds.
struct NewMethod<'a> {
    fingerprint: &'a str,
    label: String,
    card: Option<KeptCard<'a>>,
    /// How the gateway charges this method later.
    gateway_token: String,
}

/// Inserts the method (the first becomes the default) and grants the free credit if this
/// account and this identity never had it. A lost race for the identity is `already_bound`.
async fn bind(
    tx: &mut Tx,
    now: Millis,
    account_id: &str,
    allowed: &Allowed,
    method: NewMethod<'_>,
    already_bound: ApiError,
) -> Result<(String, Option<Money>), ApiError> {
    let id = uuid::Uuid::new_v4().to_string();
    let has_default = payment_methods::has_default(tx, account_id).await?;
    let card = method.card.as_ref();
    let holder = card.map(|c| {
        [
            Some(c.holder.first_name.as_str()),
            c.holder.middle_name.as_deref(),
            Some(c.holder.last_name.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
    });
    let card_address = card
        .map(|c| serde_json::to_string(&c.holder.billing_address))
        .transpose()
        .map_err(|e| ApiError::Internal(e.into()))?;
    let new = payment_methods::New {
        id: &id,
        account_id,
        kind: allowed.kind,
        fingerprint: method.fingerprint,
        brand: card.map(|c| c.brand),
        last4: card.map(|c| c.last4),
        exp_month: card.map(|c| i64::from(c.expiry.month)),
        exp_year: card.map(|c| i64::from(c.expiry.year)),
        holder_name: holder,
        company_name: card.and_then(|c| c.holder.company_name.clone()),
        card_address,
        label: &method.label,
        is_default: !has_default,
        created_at: now,
        gateway_token: &method.gateway_token,
    };
    match payment_methods::insert(tx, new).await {
        Err(e) if db::is_unique_violation(&e) => return Err(already_bound),
        other => other?,
    };
    oplog::record(
        tx,
        account_id,
        Operation::PaymentMethodAdded(LoggedPaymentMethod {
            kind: allowed.kind,
            brand: card.map(|c| c.brand),
            last4: card.map(|c| c.last4.to_owned()),
        }),
        now,
    )
    .await?;

    if ledger_entries::free_credit_taken(tx, account_id, method.fingerprint).await? {
        return Ok((id, None));
    }
    free_credit_identities::insert(tx, method.fingerprint, now).await?;
    let credit = free_credit();
    ledger_entries::insert(
        tx,
        now,
        Entry {
            account_id,
            kind: LedgerKind::FreeCredit,
            bucket: Bucket::Credit,
            amount: credit,
            payment_method_id: Some(&id),
            reference: None,
            memo: "Free credit for adding a verified payment method",
        },
    )
    .await?;
    Ok((id, Some(credit)))
}

async fn added(state: &AppState, id: &str, credit: Option<Money>) -> Result<MethodAdded, ApiError> {
    let method = payment_methods::get(&state.db, id).await?;
    Ok(MethodAdded {
        method: view(method),
        free_credit_granted: credit,
    })
}

/// The permanent identity of a card number: one card is bound to one account at a time.
pub fn card_fingerprint(secrets: &Secrets, number: &CardNumber) -> String {
    secrets.fingerprint("card", number.expose())
}

/// A card form as its Idempotency-Key remembers it (SPEC §9): the number replaced by its
/// fingerprint, the CVV left out. A retry of the same card matches, however its number was
/// spaced and whatever CVV it carries; another card does not. Nothing stored for the key can
/// then be tested against a guessed number or CVV, even by someone who holds the keys.
pub fn card_attempt(secrets: &Secrets, form: &CardForm) -> CardForm {
    let number = match CardNumber::parse(&form.number) {
        Ok(number) => card_fingerprint(secrets, &number),
        // Refused before any gateway sees it, and that answer is kept for the key; the number
        // as typed is not.
        Err(_) => secrets.fingerprint("card as typed", &form.number),
    };
    CardForm {
        number,
        cvv: String::new(),
        ..form.clone()
    }
}

/// What a card method keeps of its card: never its number or its CVV.
struct KeptCard<'a> {
    brand: CardBrand,
    last4: &'a str,
    expiry: Expiry,
    holder: &'a CardHolder,
}

/// The rules every card meets, however it was read: a brand taken in the account's country, a
/// type taken at all (no prepaid, virtual or gift card), and no account holding it already.
async fn check_card(
    state: &AppState,
    allowed: &Allowed,
    brand: Result<CardBrand, &'static str>,
    card_type: CardType,
    fingerprint: &str,
) -> Result<CardBrand, ApiError> {
    let country = allowed.country;
    let refused = |brand| ApiError::BrandNotAccepted {
        brand,
        country: country.name(),
    };
    let brand = brand.map_err(refused)?;
    if !state.acceptance.brands_for(country.code()).contains(&brand) {
        return Err(refused(brand.display_name()));
    }
    if !card_type.accepted() {
        return Err(ApiError::CardTypeNotAccepted(card_type.name()));
    }
    if payment_methods::fingerprint_bound(&state.db, fingerprint).await? {
        return Err(ApiError::CardAlreadyBound);
    }
    Ok(brand)
}

/// Verifies a card with a pre-authorization hold, releases it, and binds it. The gateway alone
/// sees the card's number and CVV, or its token; the database gets a keyed fingerprint and
/// what [`KeptCard`] holds.
async fn verify_and_bind(
    state: &AppState,
    account_id: &str,
    allowed: &Allowed,
    (fingerprint, card): (&str, KeptCard<'_>),
    source: CardSource<'_>,
) -> Result<MethodAdded, ApiError> {
    let hold = verification_hold(allowed.country, allowed.registered_at);
    // Placed and released (or left to its job to release) before the card is bound: the
    // ledger shows both even when binding is then refused.
    let authorization = intent::hold(state, account_id, source, hold).await?;

    let now = state.clock.now();
    let mut tx = account::begin_write(&state.db, account_id, Writer::Member).await?;
    let label = format!("{} •••• {}", card.brand.display_name(), card.last4);
    let brand = card.brand;
    let method = NewMethod {
        fingerprint,
        label,
        card: Some(card),
        gateway_token: authorization.card_token.clone(),
    };
    let (id, credit) = bind(
        &mut tx,
        now,
        account_id,
        allowed,
        method,
        ApiError::CardAlreadyBound,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(account = %account_id, method = %id, brand = brand.as_str(), "card added");
    added(state, &id, credit).await
}

/// Refuses a card read the other way than this server's gateway takes cards: typed into the
/// console's form where the gateway tokenizes them in the browser (production with Stripe),
/// or a token where it takes the form.
fn require_entry(state: &AppState, entry: CardEntry) -> Result<(), ApiError> {
    if gateway(state)?.card_entry() == entry {
        return Ok(());
    }
    Err(ApiError::PaymentMethodNotAvailable(match entry {
        CardEntry::Form => {
            "On this server cards are entered in the payment gateway's secure form.".into()
        }
        CardEntry::Token => "This server takes cards in its own form.".into(),
    }))
}

/// Adds a card typed into the console's form (dev mode's simulated card network).
pub async fn add_card(
    state: &AppState,
    account_id: &str,
    card: Card,
) -> Result<MethodAdded, ApiError> {
    let allowed = Allowed::check(state, account_id, PaymentMethodKind::Card).await?;
    require_entry(state, CardEntry::Form)?;
    let fingerprint = card_fingerprint(&state.secrets, &card.number);
    let brand = check_card(
        state,
        &allowed,
        Ok(card.number.brand()),
        state.acceptance.card_type(card.number.bin()),
        &fingerprint,
    )
    .await?;
    let holder_name = format!("{} {}", card.holder.first_name, card.holder.last_name);
    let check = CardCheck {
        number: &card.number,
        expiry: card.expiry,
        cvv: &card.cvv,
        holder: &holder_name,
    };
    let kept = KeptCard {
        brand,
        last4: card.number.last4(),
        expiry: card.expiry,
        holder: &card.holder,
    };
    let source = CardSource::Number(check);
    verify_and_bind(state, account_id, &allowed, (&fingerprint, kept), source).await
}

/// Adds a card the gateway tokenized in the browser (production with Stripe): the card's
/// brand, type, issuer and fingerprint come from the gateway, and the same rules apply to them.
pub async fn add_card_token(
    state: &AppState,
    account_id: &str,
    token: &str,
    holder: CardHolder,
) -> Result<MethodAdded, ApiError> {
    let allowed = Allowed::check(state, account_id, PaymentMethodKind::Card).await?;
    require_entry(state, CardEntry::Token)?;
    let details = intent::within(state, gateway(state)?.card_details(token))
        .await
        .map_err(intent::refusal)?;
    let brand = CardBrand::parse(&details.brand).ok_or(match details.brand.as_str() {
        "discover" => "Discover",
        "diners" => "Diners Club",
        "unionpay" => "UnionPay",
        _ => "This brand",
    });
    // An issuer that does not say is taken as credit, as an unknown card range is.
    let card_type = CardType::parse(&details.funding).unwrap_or(CardType::Credit);
    let fingerprint = token_fingerprint(&state.secrets, &details.fingerprint);
    let brand = check_card(state, &allowed, brand, card_type, &fingerprint).await?;
    let expiry = Expiry {
        month: details.exp_month,
        year: details.exp_year,
    };
    let kept = KeptCard {
        brand,
        last4: &details.last4,
        expiry,
        holder: &holder,
    };
    let source = CardSource::Token(token);
    verify_and_bind(state, account_id, &allowed, (&fingerprint, kept), source).await
}

/// A tokenized card's identity, from the gateway's fingerprint of its number, keyed like ours.
pub fn token_fingerprint(secrets: &Secrets, gateway_fingerprint: &str) -> String {
    secrets.fingerprint("gateway card", gateway_fingerprint)
}

/// Starts adding PayPal: the browser goes to PayPal to log in and agree, then comes back.
pub async fn start_paypal(state: &AppState, account_id: &str) -> Result<PaypalStarted, ApiError> {
    Allowed::check(state, account_id, PaymentMethodKind::Paypal).await?;
    if payment_methods::has_paypal(&state.db, account_id).await? {
        return Err(ApiError::MethodAlreadyBound { kind: "PayPal" });
    }
    let gateway = gateway(state)?;
    let token = format!("PP-{}", uuid::Uuid::new_v4().simple());
    let now = state.clock.now();
    paypal_approvals::insert(
        &state.db,
        &token,
        account_id,
        now,
        now + DurationMs::hours(3),
    )
    .await?;
    Ok(PaypalStarted {
        approval_url: gateway.paypal_approval_url(&token),
        token,
    })
}

/// Back from PayPal: binds the PayPal account that approved, unless it is a mainland-China one.
pub async fn complete_paypal(
    state: &AppState,
    account_id: &str,
    token: &str,
) -> Result<MethodAdded, ApiError> {
    let now = state.clock.now();
    match paypal_approvals::find(&state.db, token, account_id).await? {
        None => return Err(ApiError::NotFound),
        Some((_, Some(_))) => return Err(ApiError::MethodAlreadyBound { kind: "PayPal" }),
        Some((expires, None)) if now >= expires => return Err(ApiError::PaypalNotApproved),
        Some(_) => {}
    }
    let allowed = Allowed::check(state, account_id, PaymentMethodKind::Paypal).await?;
    let payer = intent::within(state, gateway(state)?.paypal_payer(token))
        .await
        .map_err(intent::refusal)?;
    if payer.country == "CN" {
        return Err(ApiError::PaypalRegionNotSupported);
    }
    let fingerprint = state.secrets.fingerprint("paypal", &payer.payer_id);
    let label = format!(
        "PayPal {}",
        shared::account::Email::parse(&payer.email)
            .map(|e| e.masked())
            .unwrap_or_default()
    );
    let mut tx = account::begin_write(&state.db, account_id, Writer::Member).await?;
    let method = NewMethod {
        fingerprint: &fingerprint,
        label,
        card: None,
        gateway_token: format!("paypal:{}", payer.payer_id),
    };
    let (id, credit) = bind(
        &mut tx,
        now,
        account_id,
        &allowed,
        method,
        ApiError::MethodAlreadyBound { kind: "PayPal" },
    )
    .await?;
    paypal_approvals::complete(&mut tx, token, now).await?;
    tx.commit().await?;
    tracing::info!(account = %account_id, method = %id, "PayPal added");
    added(state, &id, credit).await
}

pub async fn send_paytm_code(
    state: &AppState,
    account_id: &str,
    phone: &Phone,
    client: &str,
) -> Result<CodeSent, ApiError> {
    Allowed::check(state, account_id, PaymentMethodKind::Paytm).await?;
    verification::send_to_account(
        state,
        verification::Purpose::Paytm,
        account_id,
        (Channel::Phone, phone.as_str(), Some(Delivery::Sms)),
        phone.masked(),
        client,
    )
    .await
}

/// "Add now": the code proves the Paytm phone, which is then bound.
pub async fn add_paytm(
    state: &AppState,
    account_id: &str,
    phone: &Phone,
    code: &VerificationCode,
) -> Result<MethodAdded, ApiError> {
    let allowed = Allowed::check(state, account_id, PaymentMethodKind::Paytm).await?;
    let now = state.clock.now();
    let tx = account::begin_write(&state.db, account_id, Writer::Member).await?;
    let (mut tx, proven) = verification::check(
        tx,
        &state.secrets,
        now,
        &verification::Purpose::Paytm.subject(account_id),
        code,
    )
    .await?;
    if proven.address != phone.as_str() {
        // The code went to another number than the one being added: that one is unproven.
        return Err(ApiError::NoCodeSent);
    }
    let fingerprint = state.secrets.fingerprint("paytm", phone.as_str());
    let method = NewMethod {
        fingerprint: &fingerprint,
        label: format!("Paytm {}", phone.masked()),
        card: None,
        gateway_token: format!("paytm:{}", phone.as_str()),
    };
    let (id, credit) = bind(
        &mut tx,
        now,
        account_id,
        &allowed,
        method,
        ApiError::MethodAlreadyBound { kind: "Paytm" },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(account = %account_id, method = %id, "Paytm added");
    added(state, &id, credit).await
}

/// Whether the account's method is its default; not found when it is not the account's.
async fn owned(tx: &mut Tx, account_id: &str, id: &PaymentMethodId) -> Result<bool, ApiError> {
    payment_methods::is_default(tx, account_id, id)
        .await?
        .ok_or(ApiError::NotFound)
}

pub async fn set_default(
    state: &AppState,
    account_id: &str,
    id: &PaymentMethodId,
) -> Result<(), ApiError> {
    let mut tx = account::begin_write(&state.db, account_id, Writer::Member).await?;
    owned(&mut tx, account_id, id).await?;
    payment_methods::make_default(&mut tx, account_id, id).await?;
    let method = payment_methods::named(&mut tx, id).await?.logged();
    let now = state.clock.now();
    oplog::record(
        &mut tx,
        account_id,
        Operation::DefaultPaymentMethodSet(method),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a method; the newest remaining one becomes the default if the default went.
pub async fn remove(
    state: &AppState,
    account_id: &str,
    id: &PaymentMethodId,
) -> Result<(), ApiError> {
    let mut tx = account::begin_write(&state.db, account_id, Writer::Member).await?;
    let was_default = owned(&mut tx, account_id, id).await?;
    let (methods, running_payg) =
        payment_methods::count_and_running_payg(&mut tx, account_id).await?;
    if methods == 1 && running_payg {
        return Err(ApiError::LastPaymentMethod);
    }
    let method = payment_methods::named(&mut tx, id).await?.logged();
    let now = state.clock.now();
    oplog::record(
        &mut tx,
        account_id,
        Operation::PaymentMethodRemoved(method),
        now,
    )
    .await?;
    payment_methods::delete(&mut tx, id).await?;
    if was_default {
        payment_methods::make_newest_default(&mut tx, account_id).await?;
    }
    tx.commit().await?;
    tracing::info!(account = %account_id, method = %id, "payment method removed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn country(code: &str) -> Country {
        Country::parse(code).unwrap()
    }

    #[test]
    fn paytm_is_the_only_method_for_india_accounts_from_2019_07_30() {
        assert_eq!(
            available_kinds(country("IN"), midnight_utc(2019, 7, 29)),
            vec![PaymentMethodKind::Card, PaymentMethodKind::Paypal]
        );
        assert_eq!(
            available_kinds(country("IN"), midnight_utc(2019, 7, 30)),
            vec![PaymentMethodKind::Paytm]
        );
        assert_eq!(
            available_kinds(country("SG"), midnight_utc(2026, 1, 1)),
            vec![PaymentMethodKind::Card, PaymentMethodKind::Paypal]
        );
    }

    #[test]
    fn malaysian_accounts_from_2019_10_09_are_held_in_ringgit() {
        assert_eq!(
            verification_hold(country("MY"), midnight_utc(2019, 10, 8)).currency,
            Currency::USD
        );
        assert_eq!(
            verification_hold(country("MY"), midnight_utc(2019, 10, 9)).currency,
            Currency::MYR
        );
        assert_eq!(
            verification_hold(country("SG"), midnight_utc(2026, 1, 1)),
            Money::from_minor(100, Currency::USD)
        );
    }

    fn form(number: &str, cvv: &str) -> CardForm {
        CardForm {
            number: number.into(),
            exp_month: "12".into(),
            exp_year: "31".into(),
            cvv: cvv.into(),
            first_name: "Mei".into(),
            last_name: "Tan".into(),
            ..Default::default()
        }
    }

    /// What an Idempotency-Key keeps of a card form holds neither its number (valid or not,
    /// spaced or not, whole or most of it) nor its CVV: a copy of the database never yields
    /// them (SPEC §9).
    #[test]
    fn an_idempotency_key_remembers_a_card_without_its_number_or_cvv() {
        // Fixed keys: a random fingerprint could hold "8642" by chance.
        let keys = Secrets::from_text(&format!(
            "code_hmac_key={} fingerprint_key={}",
            "11".repeat(32),
            "22".repeat(32)
        ))
        .unwrap();
        // Valid, spaced, and refused (a typo in a real number is still most of that number).
        for typed in ["378282246310005", "3782 822463 10005", "3782 822463 10006"] {
            let attempt = serde_json::to_string(&card_attempt(&keys, &form(typed, "8642")));
            let attempt = attempt.unwrap();
            let digits: String = typed.chars().filter(char::is_ascii_digit).collect();
            for secret in [typed, &digits, &digits[digits.len() - 12..], "8642"] {
                assert!(!attempt.contains(secret), "{secret} in {attempt}");
            }
        }
    }

    #[test]
    fn a_retry_of_the_same_card_is_the_same_attempt_and_another_card_is_not() {
        let keys = Secrets::generate();
        let attempt = |number, cvv| card_attempt(&keys, &form(number, cvv));
        let first = attempt("4111111111111111", "123");
        assert_eq!(attempt("4111 1111 1111 1111", "123"), first);
        assert_eq!(attempt("4111-1111-1111-1111", "999"), first);
        assert_ne!(attempt("5555555555554444", "123"), first);
        let mut renamed = form("4111111111111111", "123");
        renamed.last_name = "Lim".into();
        assert_ne!(card_attempt(&keys, &renamed), first);
        // Another install's keys make another fingerprint of the same card.
        assert_ne!(
            card_attempt(&Secrets::generate(), &form("4111111111111111", "123")),
            first
        );
    }
}
