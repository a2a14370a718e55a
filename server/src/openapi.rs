//! Completes the OpenAPI document with what the shared machinery asks of and answers to every
//! request of a kind, whatever the handler: the CSRF header of a signed-in write, and the
//! answers of the JSON and query extractors, the session and CSRF checks, and idempotency keys. Writing them on each of fifty handlers would be fifty chances to forget
//! one (and the API fuzzer of `.ci/fuzz` fails on any answer the document lacks); here each rule
//! is written once.

use std::collections::BTreeMap;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Required, Response, ResponseBuilder};

fn is_write(method: &str) -> bool {
    !matches!(method, "get" | "head" | "options")
}

/// Adds the common answers to every operation of `doc`; where a handler documents the same
/// status with its own codes, the common codes follow its own in the description. Whether an
/// operation needs a session and reads a JSON body is the [`Mark`] `routes::access` left on
/// it; panics on an operation without one (routed other than by `routes::access::routes!`):
/// every test server builds the document, so such a route cannot go unnoticed.
pub fn add_common_answers(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, operation) in operations_mut(item) {
            let Some(mark) = take_mark(operation) else {
                panic!(
                    "{method} {path} was routed without routes::access::routes!, which says whether it needs a session"
                );
            };
            add_to(operation, method, mark);
        }
    }
}

/// What a handler's extractors do, as `routes::access` reads them from their types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mark {
    /// It refuses a request without a live session.
    pub signed_in: bool,
    /// It reads the body as JSON (not as raw bytes, as a signed webhook does).
    pub json_body: bool,
}

/// The operations of a path, by their methods.
pub fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("get", &mut item.get),
        ("put", &mut item.put),
        ("post", &mut item.post),
        ("delete", &mut item.delete),
        ("options", &mut item.options),
        ("head", &mut item.head),
        ("patch", &mut item.patch),
        ("trace", &mut item.trace),
    ]
    .into_iter()
    .filter_map(|(method, operation)| Some((method, operation.as_mut()?)))
}

/// The extension the mark is kept in until [`add_common_answers`] reads it (and removes it:
/// the document says it in its answers instead).
const MARK: &str = "x-handler";

/// Marks `operation` with what its handler's extractors do.
pub fn mark(operation: &mut Operation, mark: Mark) {
    let value = serde_json::to_value(mark).expect("a mark is two booleans");
    operation
        .extensions
        .get_or_insert_with(Extensions::default)
        .insert(MARK.to_owned(), value);
}

fn take_mark(operation: &mut Operation) -> Option<Mark> {
    let extensions = operation.extensions.as_mut()?;
    let mark = serde_json::from_value(extensions.remove(MARK)?).ok();
    if extensions.is_empty() {
        operation.extensions = None;
    }
    mark
}

/// The header every write of a signed-in session sends (`crate::csrf`).
fn csrf_header() -> Parameter {
    ParameterBuilder::new()
        .name("X-CSRF-Token")
        .parameter_in(ParameterIn::Header)
        .required(Required::True)
        .description(Some("The session's CSRF token"))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build()
}

fn add_to(
    operation: &mut Operation,
    method: &str,
    Mark {
        signed_in,
        json_body,
    }: Mark,
) {
    if is_write(method) && signed_in {
        let params = operation.parameters.get_or_insert_with(Vec::new);
        if !params.iter().any(|p| p.name == "X-CSRF-Token") {
            params.insert(0, csrf_header());
        }
    }
    for param in operation.parameters.iter_mut().flatten() {
        if param.name == "Idempotency-Key" {
            let key = crate::idempotency::key_schema();
            param.schema = Some(RefOr::T(Schema::Object(key)));
        }
    }
    let params = operation.parameters.as_deref().unwrap_or_default();
    let has_query = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Query));
    let takes_idempotency_key = params.iter().any(|p| p.name == "Idempotency-Key");
    let mut answers: Vec<(&str, &str)> = Vec::new();
    if json_body {
        answers.push(("400", "bad_request: the body is not JSON"));
        answers.push((
            "415",
            "bad_request: the body is not sent as `Content-Type: application/json`",
        ));
        answers.push((
            "422",
            "bad_request: the JSON does not have the request's shape; or a field's own code",
        ));
    }
    if has_query {
        answers.push(("400", "bad_request: the query string does not parse"));
    }
    if takes_idempotency_key {
        answers.push(("400", "idempotency_key_missing"));
        answers.push(("409", "idempotency_in_progress"));
        answers.push(("422", "idempotency_key_reused"));
    }
    if signed_in {
        answers.push(("401", "unauthenticated: no session, or it ended"));
        answers.push((
            "403",
            "csrf_failed (writes: a cross-site request, or without the session's X-CSRF-Token), account_closing (during a closure's cool-down), owner_only or permission_denied (RAM users)",
        ));
    }
    if is_write(method) && !signed_in {
        answers.push(("403", "csrf_failed: a cross-site write"));
    }
    let mut by_status: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (status, description) in answers {
        by_status.entry(status).or_default().push(description);
    }
    for (status, descriptions) in by_status {
        let common = descriptions.join("; ");
        match operation.responses.responses.get_mut(status) {
            None => {
                operation
                    .responses
                    .responses
                    .insert(status.to_owned(), error_answer(&common));
            }
            // The handler's own reasons for this status come first, then the common ones.
            Some(RefOr::T(answer)) if answer.description.is_empty() => answer.description = common,
            Some(RefOr::T(answer)) if !answer.description.contains(&common) => {
                answer.description = format!("{}; {common}", answer.description);
            }
            Some(_) => {}
        }
    }
}

/// A link from one operation's answer to another operation (OpenAPI `links`): `parameters`
/// and `body` name where the target's inputs come from, as runtime expressions
/// (`$response.body#/…`, `$request.path.id`). The API fuzzer's stateful phase follows them,
/// so the operations that need an ID made by another (a sign-up's, an instance's, a record's)
/// are reached with real ones rather than refused as `not_found`.
struct Link {
    from: (&'static str, &'static str),
    status: &'static str,
    name: &'static str,
    to: (&'static str, &'static str),
    parameters: &'static [(&'static str, &'static str)],
    body: Option<fn() -> serde_json::Value>,
}

const SIGNUP: &str = "$response.body#/signup_id";
const INSTANCE: &str = "$response.body#/instance/id";
const METHOD: &str = "$response.body#/method/id";

const LINKS: &[Link] = &[
    // Sign-up: start, then send a code, then verify it.
    Link {
        from: ("post", "/api/signup"),
        status: "201",
        name: "GetSignup",
        to: ("get", "/api/signup/{id}"),
        parameters: &[("path.id", SIGNUP)],
        body: None,
    },
    Link {
        from: ("post", "/api/signup"),
        status: "201",
        name: "SendCode",
        to: ("post", "/api/signup/{id}/code"),
        parameters: &[("path.id", SIGNUP)],
        body: None,
    },
    Link {
        from: ("post", "/api/signup"),
        status: "201",
        name: "Verify",
        to: ("post", "/api/signup/{id}/verify"),
        parameters: &[("path.id", SIGNUP)],
        body: None,
    },
    Link {
        from: ("post", "/api/signup/{id}/code"),
        status: "200",
        name: "Verify",
        to: ("post", "/api/signup/{id}/verify"),
        parameters: &[("path.id", "$request.path.id")],
        body: None,
    },
    // Orders: the instance bought, then what can be done to it.
    Link {
        from: ("post", "/api/orders"),
        status: "201",
        name: "Renew",
        to: ("post", "/api/instances/{id}/renew"),
        parameters: &[("path.id", INSTANCE)],
        body: None,
    },
    Link {
        from: ("post", "/api/orders"),
        status: "201",
        name: "AutoRenew",
        to: ("post", "/api/instances/{id}/auto-renew"),
        parameters: &[("path.id", INSTANCE)],
        body: None,
    },
    Link {
        from: ("post", "/api/orders"),
        status: "201",
        name: "Activate",
        to: ("post", "/api/instances/{id}/activate"),
        parameters: &[("path.id", INSTANCE)],
        body: None,
    },
    Link {
        from: ("post", "/api/orders"),
        status: "201",
        name: "Release",
        to: ("post", "/api/instances/{id}/release"),
        parameters: &[("path.id", INSTANCE)],
        body: None,
    },
    Link {
        from: ("post", "/api/orders"),
        status: "201",
        name: "TransferOut",
        to: ("post", "/api/instances/{id}/transfer-out"),
        parameters: &[("path.id", INSTANCE)],
        body: None,
    },
    Link {
        from: ("post", "/api/orders"),
        status: "201",
        name: "Unsubscribe",
        to: ("post", "/api/unsubscribe"),
        parameters: &[],
        body: Some(|| serde_json::json!({"instance_ids": [INSTANCE]})),
    },
    Link {
        from: ("post", "/api/instances/{id}/renew"),
        status: "201",
        name: "Unsubscribe",
        to: ("post", "/api/unsubscribe"),
        parameters: &[],
        body: Some(|| serde_json::json!({"instance_ids": [INSTANCE]})),
    },
    // An unsubscription, then its record.
    Link {
        from: ("post", "/api/unsubscribe"),
        status: "200",
        name: "Record",
        to: ("get", "/api/unsubscribe/records/{id}"),
        parameters: &[("path.id", "$response.body#/records/0/id")],
        body: None,
    },
    // Payment methods: added, then made the default or removed.
    Link {
        from: ("post", "/api/payment-methods/cards"),
        status: "201",
        name: "SetDefault",
        to: ("post", "/api/payment-methods/{id}/default"),
        parameters: &[("path.id", METHOD)],
        body: None,
    },
    Link {
        from: ("post", "/api/payment-methods/cards"),
        status: "201",
        name: "Remove",
        to: ("delete", "/api/payment-methods/{id}"),
        parameters: &[("path.id", METHOD)],
        body: None,
    },
    Link {
        from: ("post", "/api/payment-methods/paytm"),
        status: "201",
        name: "Remove",
        to: ("delete", "/api/payment-methods/{id}"),
        parameters: &[("path.id", METHOD)],
        body: None,
    },
    Link {
        from: ("post", "/api/payment-methods/paypal"),
        status: "200",
        name: "Complete",
        to: ("post", "/api/payment-methods/paypal/complete"),
        parameters: &[],
        body: Some(|| serde_json::json!({"token": "$response.body#/token"})),
    },
    Link {
        from: ("post", "/api/payment-methods/paypal/complete"),
        status: "201",
        name: "Remove",
        to: ("delete", "/api/payment-methods/{id}"),
        parameters: &[("path.id", METHOD)],
        body: None,
    },
    // RAM users: created, then deleted.
    Link {
        from: ("post", "/api/ram-users"),
        status: "201",
        name: "Delete",
        to: ("delete", "/api/ram-users/{id}"),
        parameters: &[("path.id", "$response.body#/id")],
        body: None,
    },
    // Closure: the system check started, then read; a bill listed, then paid.
    Link {
        from: ("post", "/api/closure/system-check"),
        status: "202",
        name: "Progress",
        to: ("get", "/api/closure/system-check/{id}"),
        parameters: &[("path.id", "$response.body#/id")],
        body: None,
    },
    Link {
        from: ("get", "/api/closure/ties"),
        status: "200",
        name: "PayBill",
        to: ("post", "/api/bills/{id}/pay"),
        parameters: &[("path.id", "$response.body#/bills/0/id")],
        body: None,
    },
    Link {
        from: ("post", "/api/icp-filings/{id}/cancel"),
        status: "200",
        name: "PayBill",
        to: ("post", "/api/bills/{id}/pay"),
        parameters: &[("path.id", "$response.body#/bills/0/id")],
        body: None,
    },
    // Pending renewals listed, then cancelled.
    Link {
        from: ("get", "/api/unsubscribe"),
        status: "200",
        name: "CancelRenewals",
        to: ("post", "/api/unsubscribe/renewals"),
        parameters: &[],
        body: Some(
            || serde_json::json!({"instance_id": "$response.body#/renewals/0/instance_id", "order_id": "$response.body#/renewals/0/order_id"}),
        ),
    },
];

/// Rules across fields, which utoipa's derive cannot state: a purchase names an offered
/// period unless it is pay-as-you-go (`PurchaseForm::parse` checks the period only for
/// subscriptions, the default billing).
pub fn add_cross_field_rules(doc: &mut serde_json::Value) {
    let offered =
        serde_json::to_value(shared::openapi::offered_period()).expect("a schema is JSON");
    doc["components"]["schemas"]["PurchaseForm"]["anyOf"] = serde_json::json!([
        {"properties": {"billing": {"const": "payg"}}, "required": ["billing"]},
        {"properties": {"period_months": offered}, "required": ["period_months"]},
    ]);
}

/// `#/paths/<path>/<method>`: a JSON pointer to an operation (`operationRef`), since the
/// handlers' operation IDs are not unique across modules.
fn operation_ref((method, path): (&str, &str)) -> String {
    format!(
        "#/paths/{}/{method}",
        path.replace('~', "~0").replace('/', "~1")
    )
}

/// Adds [`LINKS`] to the answers of `doc`, the document as JSON (utoipa 5.5 writes a link's
/// fields in snake case, `operation_ref`, which no reader of OpenAPI knows). Panics on a link
/// whose operations or answer the document lacks: a renamed route must not leave a link
/// dangling (every test server builds the document).
pub fn add_links(doc: &mut serde_json::Value) {
    for link in LINKS {
        let (method, path) = link.to;
        assert!(
            doc["paths"][path][method].is_object(),
            "link {} leads to {method} {path}, which the document lacks",
            link.name
        );
        let (method, path) = link.from;
        let Some(answer) = doc["paths"][path][method]["responses"][link.status].as_object_mut()
        else {
            panic!(
                "link {} starts at a {} answer {method} {path} does not give",
                link.name, link.status
            );
        };
        let mut built = serde_json::json!({"operationRef": operation_ref(link.to)});
        if !link.parameters.is_empty() {
            built["parameters"] = link
                .parameters
                .iter()
                .map(|(n, v)| ((*n).to_owned(), serde_json::Value::from(*v)))
                .collect();
        }
        if let Some(body) = link.body {
            built["requestBody"] = body();
        }
        let links = answer
            .entry("links")
            .or_insert_with(|| serde_json::json!({}));
        links[link.name] = built;
    }
}

fn error_answer(description: &str) -> RefOr<Response> {
    let body = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ErrorBody")))
        .build();
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content("application/json", body)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::path::{OperationBuilder, Parameter};
    use utoipa::openapi::request_body::{RequestBody, RequestBodyBuilder};

    /// A handler that takes a session, and one that does not; neither reads a JSON body.
    const SIGNED_IN: Mark = Mark {
        signed_in: true,
        json_body: false,
    };
    const PUBLIC: Mark = Mark {
        signed_in: false,
        json_body: false,
    };

    fn statuses(operation: &Operation) -> Vec<(&str, &str)> {
        operation
            .responses
            .responses
            .iter()
            .map(|(status, answer)| match answer {
                RefOr::T(answer) => (status.as_str(), answer.description.as_str()),
                RefOr::Ref(_) => (status.as_str(), "$ref"),
            })
            .collect()
    }

    #[test]
    fn a_signed_in_json_write_with_a_key_gets_every_common_answer_after_its_own() {
        let mut operation = OperationBuilder::new()
            .request_body(Some(body_of("application/json")))
            .parameter(Parameter::new("Idempotency-Key"))
            .response("422", ResponseBuilder::new().description("batch_too_large"))
            .build();
        add_to(
            &mut operation,
            "post",
            Mark {
                signed_in: true,
                json_body: true,
            },
        );
        assert_eq!(
            statuses(&operation),
            [
                (
                    "400",
                    "bad_request: the body is not JSON; idempotency_key_missing"
                ),
                ("401", "unauthenticated: no session, or it ended"),
                (
                    "403",
                    "csrf_failed (writes: a cross-site request, or without the session's X-CSRF-Token), account_closing (during a closure's cool-down), owner_only or permission_denied (RAM users)"
                ),
                ("409", "idempotency_in_progress"),
                (
                    "415",
                    "bad_request: the body is not sent as `Content-Type: application/json`"
                ),
                (
                    "422",
                    "batch_too_large; bad_request: the JSON does not have the request's shape; or a field's own code; idempotency_key_reused"
                ),
            ]
        );
    }

    fn body_of(content_type: &str) -> RequestBody {
        RequestBodyBuilder::new()
            .content(content_type, ContentBuilder::new().build())
            .build()
    }

    /// A webhook's body is a form, or bytes whose signature it checks: not read as JSON, so
    /// the JSON extractor's answers are not its own, whatever the document says it carries.
    #[test]
    fn a_body_not_read_as_json_gets_none_of_the_json_answers() {
        for content_type in ["application/x-www-form-urlencoded", "application/json"] {
            let mut webhook = OperationBuilder::new()
                .request_body(Some(body_of(content_type)))
                .build();
            add_to(&mut webhook, "post", PUBLIC);
            assert_eq!(
                statuses(&webhook),
                [("403", "csrf_failed: a cross-site write")]
            );
        }
    }

    #[test]
    fn a_public_read_gets_nothing_and_a_public_write_only_the_cross_site_refusal() {
        let mut read = OperationBuilder::new().build();
        add_to(&mut read, "get", PUBLIC);
        assert_eq!(statuses(&read), []);
        let mut write = OperationBuilder::new().build();
        add_to(&mut write, "post", PUBLIC);
        assert_eq!(
            statuses(&write),
            [("403", "csrf_failed: a cross-site write")]
        );
    }

    fn headers(operation: &Operation) -> Vec<&str> {
        operation
            .parameters
            .iter()
            .flatten()
            .filter(|p| matches!(p.parameter_in, ParameterIn::Header))
            .map(|p| p.name.as_str())
            .collect()
    }

    #[test]
    fn a_signed_in_write_asks_for_the_csrf_header_once_and_nothing_else_does() {
        let mut write = OperationBuilder::new()
            .parameter(Parameter::new("Idempotency-Key"))
            .build();
        add_to(&mut write, "post", SIGNED_IN);
        add_to(&mut write, "post", SIGNED_IN);
        assert_eq!(headers(&write), ["X-CSRF-Token"]);
        let mut read = OperationBuilder::new().build();
        add_to(&mut read, "get", SIGNED_IN);
        let mut public_write = OperationBuilder::new().build();
        add_to(&mut public_write, "post", PUBLIC);
        assert!(headers(&read).is_empty() && headers(&public_write).is_empty());
    }

    fn document_with(operation: Operation) -> OpenApi {
        let mut item = PathItem::default();
        item.post = Some(operation);
        let mut doc = OpenApi::default();
        doc.paths.paths.insert("/api/things".to_owned(), item);
        doc
    }

    /// The mark says which answers an operation gets, and is gone from the document served.
    #[test]
    fn the_session_mark_becomes_answers_and_leaves_the_document() {
        for signed_in in [true, false] {
            let mut operation = OperationBuilder::new().build();
            mark(
                &mut operation,
                Mark {
                    signed_in,
                    json_body: false,
                },
            );
            let mut doc = document_with(operation);
            add_common_answers(&mut doc);
            let operation = doc.paths.paths["/api/things"].post.as_ref().unwrap();
            assert!(operation.extensions.is_none(), "{signed_in}");
            assert_eq!(headers(operation) == ["X-CSRF-Token"], signed_in);
            assert_eq!(operation.responses.responses.contains_key("401"), signed_in);
        }
    }

    #[test]
    #[should_panic(expected = "post /api/things was routed without routes::access::routes!")]
    fn an_operation_routed_without_the_mark_fails_the_build_of_the_document() {
        add_common_answers(&mut document_with(OperationBuilder::new().build()));
    }
}
