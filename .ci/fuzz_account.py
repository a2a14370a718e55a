"""Makes a signed-in account for .ci/fuzz, through the API of a dev-mode server.

Signs up by email code (read from the dev inbox), verifies the phone, saves a billing address,
adds a card, creates a RAM user and fills the account with dev mode's demo mix (subscriptions,
renewals, a domain, a pay-as-you-go instance, and what blocks a closure). Then writes a
schemathesis config naming the IDs the account owns, so that path parameters are often real
ones and the fuzzer reaches past `not_found`; and prints the session cookie and CSRF token,
tab-separated.

Usage: fuzz_account.py BASE_URL CLIENT_ADDRESS CONFIG_PATH
"""

import json
import re
import sys
import urllib.parse
import urllib.request
import uuid

base, client, config_path = sys.argv[1:4]
email = f"fuzz.{uuid.uuid4().hex}@example.com"
password = "Harbour7Lights"
session = {}


def call(method, path, body=None, idempotency_key=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    # The per-client limits on codes count each fuzzed account apart.
    request.add_header("X-Forwarded-For", client)
    if session:
        request.add_header("Cookie", session["cookie"])
        request.add_header("X-CSRF-Token", session["csrf"])
    if idempotency_key:
        request.add_header("Idempotency-Key", idempotency_key)
    with urllib.request.urlopen(request) as response:
        text = response.read()
        return (json.loads(text) if text else None), response.headers


def code_sent_to(to):
    inbox, _ = call("GET", f"/api/dev/inbox?to={urllib.parse.quote(to)}")
    return re.search(r"\b\d{6}\b", inbox[0]["body"]).group(0)


started, _ = call("POST", "/api/signup", {
    "country": "SG", "email": email, "password": password,
    "password_confirmation": password, "accept_agreement": True,
})
signup = started["signup_id"]
call("POST", f"/api/signup/{signup}/code", {"channel": "email"})
verified, headers = call("POST", f"/api/signup/{signup}/verify", {"code": code_sent_to(email)})
session["cookie"] = headers["Set-Cookie"].split(";")[0]
session["csrf"] = verified["csrf_token"]

# A mobile number of its own: the codes one number gets in an hour are limited, and the
# fuzzing of phase 1 may have sent some to any number.
phone = "8" + str(uuid.uuid4().int)[:7]
call("POST", "/api/account/contact/code", {"channel": "phone", "phone": phone})
call("POST", "/api/account/contact/verify", {"code": code_sent_to("+65" + phone)})
address = {
    "account_type": "individual", "last_name": "Tan", "first_name": "Mei", "country": "SG",
    "address_line1": "1 Main Street", "city": "Singapore", "state": "", "postal_code": "048616",
}
call("PUT", "/api/billing-address", address)
# A Luhn-valid Visa number of its own: a card belongs to one account at a time.
digits = "4111" + str(uuid.uuid4().int)[:11]
check = next(d for d in range(10) if sum(
    sum(divmod(int(c) * 2, 10)) if i % 2 else int(c)
    for i, c in enumerate(reversed(digits + str(d)))) % 10 == 0)
call("POST", "/api/payment-methods/cards", {
    "number": digits + str(check), "exp_month": "12", "exp_year": "2031", "cvv": "123",
    "first_name": "Mei", "last_name": "Tan", "billing_address": address,
}, idempotency_key=str(uuid.uuid4()))
call("POST", "/api/ram-users", {"username": "ops", "password": "Turbine9Blue", "permissions": []})
call("POST", "/api/dev/seed-demo", {"extra": 2, "blockers": True})


def ids_in(value):
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "id" and isinstance(item, str):
                yield item
            else:
                yield from ids_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from ids_in(item)


ids = set()
for path in ["/api/instances", "/api/payment-methods", "/api/ram-users", "/api/closure/ties",
             "/api/unsubscribe?tab=renewal", "/api/unsubscribe?tab=records", "/api/coupons",
             "/api/ledger"]:
    listed, _ = call("GET", path)
    ids.update(ids_in(listed))

# Half the generated requests take one of the account's IDs for `{id}` (of some kind: an
# instance ID where a payment method is expected is a fine test too), half a random string.
with open(config_path, "w") as config:
    config.write("[dictionaries.owned]\nvalues = %s\n\n" % json.dumps(sorted(ids)))
    config.write('[parameters]\n"path.id" = { dictionary = "owned", probability = 0.5 }\n')

print(f"{session['cookie']}\t{session['csrf']}")
