-- Stripe's webhook events this server has processed, by Stripe's event id: written in the
-- transaction of the event's effect, so a replay or one of Stripe's redeliveries finds its id
-- here and changes nothing. Only Stripe's id and type: no row names an account, so nothing
-- here outlives a closed account's deletion with its name on it.
CREATE TABLE stripe_events (
    id          TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    received_at BIGINT NOT NULL
);

-- A dispute names the PaymentIntent it disputes: the webhook finds the account by it.
CREATE INDEX gateway_intents_reference ON gateway_intents (gateway_reference);
