"""Schemathesis hooks for .ci/fuzz (loaded through SCHEMATHESIS_HOOKS).

A fresh Idempotency-Key for every request whose generated key is a valid one. The generator
draws keys from a small space ("0", "00", …) and repeats them across requests with different
bodies, which the server rightly refuses as `idempotency_key_reused` (422): nearly every
purchase, renewal, unsubscription and card would be refused before its logic ran. A key the
document calls invalid (empty, too long, not printable ASCII) is left as generated, so its
refusal is still checked. Replaying a key is tested in server/tests (idempotency, races).
"""

import re
import uuid

import schemathesis

# The document's pattern for the header (server/src/idempotency.rs, `key_schema`).
VALID_KEY = re.compile(r"^[ \t]*[!-~](?:[\t -~]{0,126}[!-~])?[ \t]*$")


@schemathesis.hook
def before_call(context, case, **kwargs):
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key":
            value = headers[name]
            if isinstance(value, str) and VALID_KEY.match(value):
                headers[name] = str(uuid.uuid4())
