//! A gateway outage for tests: the simulated gateway, with charges, refunds, releases of holds
//! or payouts failing on the network until the outage ends; every other call goes through.

use server::gateway::{
    Authorization, CardDetails, CardEntry, CardSource, Charge, GatewayError, GatewayFuture,
    PaymentGateway, PaypalPayer,
};
use server::state::AppState;
use shared::api::PaymentMethodKind;
use shared::money::Money;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Which calls an [`Outage`] fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Down {
    Charges,
    Refunds,
    Releases,
    Payouts,
}

pub struct Outage {
    gateway: Arc<dyn PaymentGateway>,
    down: Down,
    on: AtomicBool,
}

impl Outage {
    /// `state` with its gateway down for `down`: jobs and domain calls made with the returned
    /// state meet the outage; the server's own requests do not.
    pub fn of(state: &AppState, down: Down) -> (AppState, Arc<Outage>) {
        let outage = Arc::new(Outage {
            gateway: state.gateway.clone().expect("dev mode has the simulator"),
            down,
            on: AtomicBool::new(true),
        });
        (state.with_gateway(Some(outage.clone())), outage)
    }

    pub fn end(&self) {
        self.on.store(false, Ordering::Relaxed);
    }

    fn fails<T: 'static>(&self, calls: Down) -> Option<GatewayFuture<'static, T>> {
        (self.down == calls && self.on.load(Ordering::Relaxed)).then(|| {
            let what = match calls {
                Down::Charges => "charges are down",
                Down::Refunds => "refunds are down",
                Down::Releases => "releases are down",
                Down::Payouts => "payouts are down",
            };
            Box::pin(async move { Err(GatewayError::Network(what.into())) }) as GatewayFuture<'_, T>
        })
    }
}

impl PaymentGateway for Outage {
    fn authorize<'a>(
        &'a self,
        card: CardSource<'a>,
        amount: Money,
        key: &'a str,
    ) -> GatewayFuture<'a, Authorization> {
        self.gateway.authorize(card, amount, key)
    }

    fn card_entry(&self) -> CardEntry {
        self.gateway.card_entry()
    }

    fn takes(&self, kind: PaymentMethodKind) -> bool {
        self.gateway.takes(kind)
    }

    fn pays_out(&self) -> bool {
        self.gateway.pays_out()
    }

    fn card_details<'a>(&'a self, token: &'a str) -> GatewayFuture<'a, CardDetails> {
        self.gateway.card_details(token)
    }

    fn release<'a>(&'a self, reference: &'a str, key: &'a str) -> GatewayFuture<'a, ()> {
        self.fails(Down::Releases)
            .unwrap_or_else(|| self.gateway.release(reference, key))
    }

    fn paypal_payer<'a>(&'a self, token: &'a str) -> GatewayFuture<'a, PaypalPayer> {
        self.gateway.paypal_payer(token)
    }

    fn paypal_approval_url(&self, token: &str) -> String {
        self.gateway.paypal_approval_url(token)
    }

    fn charge<'a>(
        &'a self,
        token: &'a str,
        amount: Money,
        key: &'a str,
    ) -> GatewayFuture<'a, Charge> {
        self.fails(Down::Charges)
            .unwrap_or_else(|| self.gateway.charge(token, amount, key))
    }

    fn refund<'a>(
        &'a self,
        reference: &'a str,
        amount: Money,
        key: &'a str,
    ) -> GatewayFuture<'a, ()> {
        self.fails(Down::Refunds)
            .unwrap_or_else(|| self.gateway.refund(reference, amount, key))
    }

    fn payout<'a>(
        &'a self,
        token: &'a str,
        amount: Money,
        key: &'a str,
    ) -> GatewayFuture<'a, Charge> {
        self.fails(Down::Payouts)
            .unwrap_or_else(|| self.gateway.payout(token, amount, key))
    }
}
