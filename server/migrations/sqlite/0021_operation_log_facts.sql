-- An operation log entry's detail is the JSON of the shared `OperationDetail` (a `kind` and
-- the facts of that kind: `{"kind": "renewal", "instance": "i-…", "months": 1, "price":
-- {"amount": "10.00", "currency": "USD"}}`), which the console words, instead of an English
-- phrase. Each phrase written before that reads exactly as one of the shapes becomes it; any
-- other (a browser's name, several renewals, a dispute) is kept whole as
-- `{"kind": "legacy", "text": …}`, so every old entry still reads and still says what it said.
-- No phrase ever began with `{`: that is how each step below knows a row it has not done yet.
-- The PostgreSQL twin of this file reads the same phrases with regular expressions.

-- Nothing more than the action says.
UPDATE operation_log SET detail = json_object('kind', 'none')
WHERE (action IN ('sign_in_password_accepted', 'two_step_off') AND detail = '')
   OR (action = 'two_step_on' AND detail = 'authenticator app')
   OR (action = 'password_changed' AND detail = 'other sessions signed out');

UPDATE operation_log SET detail = json_object('kind', 'sign_in_refused', 'reason',
    CASE detail WHEN 'wrong password' THEN 'wrong_password' ELSE 'wrong_two_step_code' END)
WHERE action = 'sign_in_failed' AND detail IN ('wrong password', 'wrong two-step code');

UPDATE operation_log SET detail = json_object('kind', 'password_reset', 'channel',
    CASE detail WHEN 'by email code; every session signed out' THEN 'email' ELSE 'phone' END)
WHERE action = 'password_reset'
  AND detail IN ('by email code; every session signed out', 'by phone code; every session signed out');

-- "3 other sessions"
UPDATE operation_log SET detail = json_object('kind', 'other_sessions', 'count',
    CAST(substr(detail, 1, length(detail) - 15) AS INTEGER))
WHERE action = 'session_signed_out' AND detail LIKE '% other sessions'
  AND substr(detail, 1, length(detail) - 15) GLOB '[0-9]*'
  AND substr(detail, 1, length(detail) - 15) NOT GLOB '*[^0-9]*';

-- "ops (BillingFullAccess BillingReadOnlyAccess)", "ops (no permissions)"
UPDATE operation_log SET detail = json_object('kind', 'ram_user_created',
    'name', substr(detail, 1, instr(detail, ' (') - 1),
    'permissions', json(CASE substr(detail, instr(detail, ' ('))
        WHEN ' (no permissions)' THEN '[]'
        WHEN ' (BillingFullAccess)' THEN '["BillingFullAccess"]'
        WHEN ' (BillingReadOnlyAccess)' THEN '["BillingReadOnlyAccess"]'
        ELSE '["BillingFullAccess","BillingReadOnlyAccess"]' END))
WHERE action = 'ram_user_created' AND instr(detail, ' (') > 1
  AND substr(detail, instr(detail, ' (')) IN (' (no permissions)', ' (BillingFullAccess)',
      ' (BillingReadOnlyAccess)', ' (BillingFullAccess BillingReadOnlyAccess)');

UPDATE operation_log SET detail = json_object('kind', 'ram_user', 'name', detail)
WHERE action = 'ram_user_deleted' AND detail <> '' AND detail NOT LIKE '{%'
  AND instr(detail, ' ') = 0;

-- A payment method's label: "VISA •••• 1111", "PayPal a***@example.com", "Paytm +91****1234"
-- (the log now keeps no part of an email or a phone number).
CREATE TEMPORARY TABLE logged_methods (id TEXT PRIMARY KEY, label TEXT NOT NULL, rest TEXT,
    method TEXT, amount TEXT);
INSERT INTO logged_methods (id, label, rest)
SELECT id, detail, NULL FROM operation_log
WHERE action IN ('payment_method_added', 'payment_method_removed', 'default_payment_method_set')
  AND detail NOT LIKE '{%';
-- "USD 5.00 to VISA •••• 1111": the amount stays in `rest`.
INSERT INTO logged_methods (id, label, rest)
SELECT id, substr(detail, instr(detail, ' to ') + 4), substr(detail, 1, instr(detail, ' to ') - 1)
FROM operation_log
WHERE action = 'withdrawal' AND instr(detail, ' to ') > 0 AND detail NOT LIKE '{%';
UPDATE logged_methods SET method = CASE
    WHEN label LIKE 'PayPal%' THEN json_object('kind', 'paypal')
    WHEN label LIKE 'Paytm%' THEN json_object('kind', 'paytm')
    WHEN substr(label, -10, 6) = ' •••• ' AND substr(label, -4) GLOB '[0-9][0-9][0-9][0-9]'
         AND substr(label, 1, length(label) - 10) IN ('VISA', 'MasterCard', 'American Express', 'JCB')
    THEN json_object('kind', 'card', 'brand',
        CASE substr(label, 1, length(label) - 10)
            WHEN 'VISA' THEN 'visa' WHEN 'MasterCard' THEN 'mastercard'
            WHEN 'American Express' THEN 'amex' ELSE 'jcb' END,
        'last4', substr(label, -4))
END;
-- An amount as `Money` displays it: "USD 12.34".
UPDATE logged_methods SET amount = json_object('amount', substr(rest, 5), 'currency', substr(rest, 1, 3))
WHERE substr(rest, 1, 3) IN ('USD', 'CNY', 'MYR', 'INR', 'EUR') AND substr(rest, 4, 1) = ' '
  AND substr(rest, 5) GLOB '[0-9]*.[0-9][0-9]' AND substr(rest, 5) NOT GLOB '*[^0-9.]*'
  AND length(substr(rest, 5)) - length(replace(substr(rest, 5), '.', '')) = 1;
UPDATE operation_log SET detail = json_object('kind', 'payment_method', 'method', json(m.method))
FROM logged_methods AS m
WHERE operation_log.id = m.id AND m.rest IS NULL AND m.method IS NOT NULL;
UPDATE operation_log SET detail = json_object('kind', 'withdrawal', 'amount', json(m.amount), 'to', json(m.method))
FROM logged_methods AS m
WHERE operation_log.id = m.id AND m.rest IS NOT NULL AND m.method IS NOT NULL AND m.amount IS NOT NULL;
DROP TABLE logged_methods;

-- The remaining phrases with an amount, each split into its parts first, by the shape it
-- becomes: "USD 12.34" (a refund returned to the balance); "i-…: 3 months, USD 30.00" (a
-- renewal); "i-…: ecs for 1 months, USD 10.00" and "i-…: ecs pay-as-you-go" (purchases);
-- "i-1, i-2: refund USD 4.00" (resources unsubscribed); "i-…: renewals not yet in effect,
-- refund USD 1.00" (one instance's renewals cancelled; several stay phrases).
CREATE TEMPORARY TABLE phrases (id TEXT PRIMARY KEY, shape TEXT NOT NULL, subject TEXT,
    product TEXT, months TEXT, money TEXT, price TEXT);
INSERT INTO phrases (id, shape, money)
SELECT id, 'amount', detail FROM operation_log
WHERE action = 'refund_returned_to_balance' AND detail NOT LIKE '{%';
INSERT INTO phrases (id, shape, subject, months, money)
SELECT id, 'renewal', substr(detail, 1, instr(detail, ': ') - 1),
    substr(detail, instr(detail, ': ') + 2, instr(detail, ' months, ') - instr(detail, ': ') - 2),
    substr(detail, instr(detail, ' months, ') + 9)
FROM operation_log
WHERE action = 'renewal' AND instr(detail, ': ') > 1 AND instr(detail, ' months, ') > 0
  AND detail NOT LIKE '{%';
INSERT INTO phrases (id, shape, subject, product, months, money)
SELECT id, 'subscription', substr(detail, 1, instr(detail, ': ') - 1),
    substr(detail, instr(detail, ': ') + 2, instr(detail, ' for ') - instr(detail, ': ') - 2),
    substr(detail, instr(detail, ' for ') + 5, instr(detail, ' months, ') - instr(detail, ' for ') - 5),
    substr(detail, instr(detail, ' months, ') + 9)
FROM operation_log
WHERE action = 'purchase' AND instr(detail, ': ') > 1 AND instr(detail, ' for ') > instr(detail, ': ')
  AND instr(detail, ' months, ') > instr(detail, ' for ') AND detail NOT LIKE '{%';
INSERT INTO phrases (id, shape, subject, product)
SELECT id, 'pay_as_you_go', substr(detail, 1, instr(detail, ': ') - 1),
    substr(detail, instr(detail, ': ') + 2, length(detail) - instr(detail, ': ') - 15)
FROM operation_log
WHERE action = 'purchase' AND instr(detail, ': ') > 1 AND detail LIKE '% pay-as-you-go'
  AND detail NOT LIKE '{%';
INSERT INTO phrases (id, shape, subject, money)
SELECT id, 'unsubscribed', substr(detail, 1, instr(detail, ': refund ') - 1),
    substr(detail, instr(detail, ': refund ') + 9)
FROM operation_log
WHERE action = 'unsubscribe' AND instr(detail, ': refund ') > 1 AND detail NOT LIKE '{%';
INSERT INTO phrases (id, shape, subject, money)
SELECT id, 'renewals_cancelled', substr(detail, 1, instr(detail, ': renewals not yet in effect, refund ') - 1),
    substr(detail, instr(detail, ': renewals not yet in effect, refund ') + 37)
FROM operation_log
WHERE action = 'unsubscribe' AND instr(detail, ': renewals not yet in effect, refund ') > 1
  AND instr(detail, '; ') = 0 AND detail NOT LIKE '{%';
-- Parts that are not what they should be leave the phrase to the fallback below.
DELETE FROM phrases WHERE
    (money IS NOT NULL AND NOT (substr(money, 1, 3) IN ('USD', 'CNY', 'MYR', 'INR', 'EUR')
        AND substr(money, 4, 1) = ' ' AND substr(money, 5) GLOB '[0-9]*.[0-9][0-9]'
        AND substr(money, 5) NOT GLOB '*[^0-9.]*'
        AND length(substr(money, 5)) - length(replace(substr(money, 5), '.', '')) = 1))
    OR (months IS NOT NULL AND (months = '' OR months GLOB '*[^0-9]*' OR length(months) > 4))
    OR (product IS NOT NULL AND (product = '' OR instr(product, ' ') > 0))
    OR (subject IS NOT NULL AND (subject = '' OR subject GLOB '*[^-a-z0-9, ]*'
        OR (shape <> 'unsubscribed' AND instr(subject, ' ') > 0)));
UPDATE phrases SET price = json_object('amount', substr(money, 5), 'currency', substr(money, 1, 3))
WHERE money IS NOT NULL;
UPDATE operation_log SET detail = CASE p.shape
    WHEN 'amount' THEN json_object('kind', 'amount', 'amount', json(p.price))
    WHEN 'renewal' THEN json_object('kind', 'renewal', 'instance', p.subject,
        'months', CAST(p.months AS INTEGER), 'price', json(p.price))
    WHEN 'subscription' THEN json_object('kind', 'subscription', 'instance', p.subject,
        'product', p.product, 'months', CAST(p.months AS INTEGER), 'price', json(p.price))
    WHEN 'pay_as_you_go' THEN json_object('kind', 'pay_as_you_go', 'instance', p.subject,
        'product', p.product)
    WHEN 'unsubscribed' THEN json_object('kind', 'unsubscribed',
        'instances', json('["' || replace(p.subject, ', ', '","') || '"]'), 'refund', json(p.price))
    ELSE json_object('kind', 'renewals_cancelled', 'renewals',
        json_array(json_object('instance', p.subject, 'refund', json(p.price))))
END
FROM phrases AS p
WHERE operation_log.id = p.id;
DROP TABLE phrases;

UPDATE operation_log SET detail = json_object('kind', 'billing_address', 'country', detail)
WHERE action = 'billing_address_saved' AND detail GLOB '[A-Z][A-Z]';

UPDATE operation_log SET detail = json_object('kind', 'identity', 'method',
    CASE detail WHEN 'SMS code' THEN 'sms_code' WHEN 'authenticator app' THEN 'authenticator'
    ELSE 'alipay' END)
WHERE action = 'closure_identity_verified' AND detail IN ('SMS code', 'authenticator app', 'Alipay');

-- "overdue_payments, cash_balance": the items' stable names.
UPDATE operation_log SET detail = json_object('kind', 'items_renounced',
    'items', json('["' || replace(detail, ', ', '","') || '"]'))
WHERE action = 'closure_items_renounced' AND detail <> '' AND detail NOT GLOB '*[^a-z_, ]*';

-- "cool-down until 2026-01-31T00:00:00Z"
UPDATE operation_log SET detail = json_object('kind', 'cool_down', 'until', substr(detail, 17))
WHERE action = 'closure_confirmed' AND detail LIKE 'cool-down until %';

-- Everything else, as it was written.
UPDATE operation_log SET detail = json_object('kind', 'legacy', 'text', detail)
WHERE detail NOT LIKE '{%';
