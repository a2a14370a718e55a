-- An operation log entry's detail is the JSON of the shared `OperationDetail` (a `kind` and
-- the facts of that kind: `{"kind": "renewal", "instance": "i-…", "months": 1, "price":
-- {"amount": "10.00", "currency": "USD"}}`), which the console words, instead of an English
-- phrase. Each phrase written before that reads exactly as one of the shapes becomes it; any
-- other (a browser's name, several renewals, a dispute) is kept whole as
-- `{"kind": "legacy", "text": …}`, so every old entry still reads and still says what it said.
-- No phrase ever began with `{`: that is how each step below knows a row it has not done yet.
-- The SQLite twin of this file reads the same phrases without regular expressions.

-- Nothing more than the action says.
UPDATE operation_log SET detail = jsonb_build_object('kind', 'none')::text
WHERE (action IN ('sign_in_password_accepted', 'two_step_off') AND detail = '')
   OR (action = 'two_step_on' AND detail = 'authenticator app')
   OR (action = 'password_changed' AND detail = 'other sessions signed out');

UPDATE operation_log SET detail = jsonb_build_object('kind', 'sign_in_refused', 'reason',
    CASE detail WHEN 'wrong password' THEN 'wrong_password' ELSE 'wrong_two_step_code' END)::text
WHERE action = 'sign_in_failed' AND detail IN ('wrong password', 'wrong two-step code');

UPDATE operation_log SET detail = jsonb_build_object('kind', 'password_reset', 'channel',
    CASE detail WHEN 'by email code; every session signed out' THEN 'email' ELSE 'phone' END)::text
WHERE action = 'password_reset'
  AND detail IN ('by email code; every session signed out', 'by phone code; every session signed out');

-- "3 other sessions"
UPDATE operation_log SET detail = jsonb_build_object('kind', 'other_sessions', 'count',
    CAST(substring(detail FROM '^([0-9]{1,9}) other sessions$') AS INTEGER))::text
WHERE action = 'session_signed_out' AND detail ~ '^[0-9]{1,9} other sessions$';

-- "ops (BillingFullAccess BillingReadOnlyAccess)", "ops (no permissions)"
UPDATE operation_log SET detail = jsonb_build_object('kind', 'ram_user_created',
    'name', p.m[1],
    'permissions', CASE p.m[2]
        WHEN 'no permissions' THEN '[]'::jsonb
        ELSE to_jsonb(string_to_array(p.m[2], ' ')) END)::text
FROM (SELECT id, regexp_match(detail,
        '^(\S+) \((no permissions|BillingFullAccess|BillingReadOnlyAccess|BillingFullAccess BillingReadOnlyAccess)\)$') AS m
      FROM operation_log WHERE action = 'ram_user_created') AS p
WHERE operation_log.id = p.id AND p.m IS NOT NULL;

UPDATE operation_log SET detail = jsonb_build_object('kind', 'ram_user', 'name', detail)::text
WHERE action = 'ram_user_deleted' AND detail ~ '^[^{ ]\S*$';

-- A payment method's label: "VISA •••• 1111", "PayPal a***@example.com", "Paytm +91****1234"
-- (the log now keeps no part of an email or a phone number).
CREATE TEMPORARY TABLE logged_methods (id TEXT PRIMARY KEY, label TEXT NOT NULL, rest TEXT,
    method JSONB, amount JSONB);
INSERT INTO logged_methods (id, label, rest)
SELECT id, detail, NULL FROM operation_log
WHERE action IN ('payment_method_added', 'payment_method_removed', 'default_payment_method_set')
  AND detail NOT LIKE '{%';
-- "USD 5.00 to VISA •••• 1111": the amount stays in `rest`.
INSERT INTO logged_methods (id, label, rest)
SELECT id, substring(detail FROM position(' to ' IN detail) + 4),
    substring(detail FROM 1 FOR position(' to ' IN detail) - 1)
FROM operation_log
WHERE action = 'withdrawal' AND position(' to ' IN detail) > 0 AND detail NOT LIKE '{%';
UPDATE logged_methods SET method = CASE
    WHEN label LIKE 'PayPal%' THEN jsonb_build_object('kind', 'paypal')
    WHEN label LIKE 'Paytm%' THEN jsonb_build_object('kind', 'paytm')
    WHEN label ~ '^(VISA|MasterCard|American Express|JCB) •••• [0-9]{4}$'
    THEN jsonb_build_object('kind', 'card', 'brand',
        CASE substring(label FROM '^(.*) •••• ')
            WHEN 'VISA' THEN 'visa' WHEN 'MasterCard' THEN 'mastercard'
            WHEN 'American Express' THEN 'amex' ELSE 'jcb' END,
        'last4', right(label, 4))
END;
-- An amount as `Money` displays it: "USD 12.34".
UPDATE logged_methods SET amount = jsonb_build_object('amount', substring(rest FROM 5),
    'currency', left(rest, 3))
WHERE rest ~ '^(USD|CNY|MYR|INR|EUR) [0-9]+\.[0-9]{2}$';
UPDATE operation_log SET detail = jsonb_build_object('kind', 'payment_method', 'method', m.method)::text
FROM logged_methods AS m
WHERE operation_log.id = m.id AND m.rest IS NULL AND m.method IS NOT NULL;
UPDATE operation_log SET detail = jsonb_build_object('kind', 'withdrawal', 'amount', m.amount,
    'to', m.method)::text
FROM logged_methods AS m
WHERE operation_log.id = m.id AND m.rest IS NOT NULL AND m.method IS NOT NULL AND m.amount IS NOT NULL;
DROP TABLE logged_methods;

-- The remaining phrases with an amount: "USD 12.34" (a refund returned to the balance);
-- "i-…: 3 months, USD 30.00" (a renewal); "i-…: ecs for 1 months, USD 10.00" and "i-…: ecs
-- pay-as-you-go" (purchases); "i-1, i-2: refund USD 4.00" (resources unsubscribed); "i-…:
-- renewals not yet in effect, refund USD 1.00" (one instance's renewals cancelled; several
-- stay phrases).
UPDATE operation_log SET detail = jsonb_build_object('kind', 'amount',
    'amount', jsonb_build_object('amount', p.m[2], 'currency', p.m[1]))::text
FROM (SELECT id, regexp_match(detail, '^(USD|CNY|MYR|INR|EUR) ([0-9]+\.[0-9]{2})$') AS m
      FROM operation_log WHERE action = 'refund_returned_to_balance') AS p
WHERE operation_log.id = p.id AND p.m IS NOT NULL;

UPDATE operation_log SET detail = jsonb_build_object('kind', 'renewal', 'instance', p.m[1],
    'months', CAST(p.m[2] AS INTEGER),
    'price', jsonb_build_object('amount', p.m[4], 'currency', p.m[3]))::text
FROM (SELECT id, regexp_match(detail,
        '^([-a-z0-9]+): ([0-9]{1,4}) months, (USD|CNY|MYR|INR|EUR) ([0-9]+\.[0-9]{2})$') AS m
      FROM operation_log WHERE action = 'renewal') AS p
WHERE operation_log.id = p.id AND p.m IS NOT NULL;

UPDATE operation_log SET detail = jsonb_build_object('kind', 'subscription', 'instance', p.m[1],
    'product', p.m[2], 'months', CAST(p.m[3] AS INTEGER),
    'price', jsonb_build_object('amount', p.m[5], 'currency', p.m[4]))::text
FROM (SELECT id, regexp_match(detail,
        '^([-a-z0-9]+): (\S+) for ([0-9]{1,4}) months, (USD|CNY|MYR|INR|EUR) ([0-9]+\.[0-9]{2})$') AS m
      FROM operation_log WHERE action = 'purchase') AS p
WHERE operation_log.id = p.id AND p.m IS NOT NULL;

UPDATE operation_log SET detail = jsonb_build_object('kind', 'pay_as_you_go', 'instance', p.m[1],
    'product', p.m[2])::text
FROM (SELECT id, regexp_match(detail, '^([-a-z0-9]+): (\S+) pay-as-you-go$') AS m
      FROM operation_log WHERE action = 'purchase') AS p
WHERE operation_log.id = p.id AND p.m IS NOT NULL;

UPDATE operation_log SET detail = jsonb_build_object('kind', 'unsubscribed',
    'instances', to_jsonb(string_to_array(p.m[1], ', ')),
    'refund', jsonb_build_object('amount', p.m[3], 'currency', p.m[2]))::text
FROM (SELECT id, regexp_match(detail,
        '^([-a-z0-9]+(?:, [-a-z0-9]+)*): refund (USD|CNY|MYR|INR|EUR) ([0-9]+\.[0-9]{2})$') AS m
      FROM operation_log WHERE action = 'unsubscribe') AS p
WHERE operation_log.id = p.id AND p.m IS NOT NULL;

UPDATE operation_log SET detail = jsonb_build_object('kind', 'renewals_cancelled',
    'renewals', jsonb_build_array(jsonb_build_object('instance', p.m[1],
        'refund', jsonb_build_object('amount', p.m[3], 'currency', p.m[2]))))::text
FROM (SELECT id, regexp_match(detail,
        '^([-a-z0-9]+): renewals not yet in effect, refund (USD|CNY|MYR|INR|EUR) ([0-9]+\.[0-9]{2})$') AS m
      FROM operation_log WHERE action = 'unsubscribe') AS p
WHERE operation_log.id = p.id AND p.m IS NOT NULL;

UPDATE operation_log SET detail = jsonb_build_object('kind', 'billing_address', 'country', detail)::text
WHERE action = 'billing_address_saved' AND detail ~ '^[A-Z]{2}$';

UPDATE operation_log SET detail = jsonb_build_object('kind', 'identity', 'method',
    CASE detail WHEN 'SMS code' THEN 'sms_code' WHEN 'authenticator app' THEN 'authenticator'
    ELSE 'alipay' END)::text
WHERE action = 'closure_identity_verified' AND detail IN ('SMS code', 'authenticator app', 'Alipay');

-- "overdue_payments, cash_balance": the items' stable names.
UPDATE operation_log SET detail = jsonb_build_object('kind', 'items_renounced',
    'items', to_jsonb(string_to_array(detail, ', ')))::text
WHERE action = 'closure_items_renounced' AND detail ~ '^[a-z_]+(, [a-z_]+)*$';

-- "cool-down until 2026-01-31T00:00:00Z"
UPDATE operation_log SET detail = jsonb_build_object('kind', 'cool_down',
    'until', substring(detail FROM 17))::text
WHERE action = 'closure_confirmed' AND detail LIKE 'cool-down until %';

-- Everything else, as it was written.
UPDATE operation_log SET detail = jsonb_build_object('kind', 'legacy', 'text', detail)::text
WHERE detail NOT LIKE '{%';
