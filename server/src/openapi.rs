//! Completes the OpenAPI document with the answers the shared machinery gives to every request
//! of a kind, whatever the handler: the JSON and query extractors, the session and CSRF checks,
//! and idempotency keys. Writing them on each of fifty handlers would be fifty chances to forget
//! one (the API fuzzer of `.ci/fuzz` found many forgotten); here each rule is written once.

use std::collections::BTreeMap;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};

/// Operations anyone may call without a session: health, sign-up, sign-in, and dev mode's
/// inbox, clock and job runner. Every other operation loads the session first.
fn is_public(method: &str, path: &str) -> bool {
    path == "/api/health"
        || path == "/api/ready"
        || path.starts_with("/api/signup")
        || (method == "post" && (path == "/api/session" || path == "/api/session/ram"))
        || (path.starts_with("/api/dev/") && path != "/api/dev/seed-demo")
}

fn is_write(method: &str) -> bool {
    !matches!(method, "get" | "head" | "options")
}

/// Adds the common answers to every operation of `doc` that lacks them; an answer a handler
/// documents itself (with its own codes in the description) is kept as it is.
pub fn add_common_answers(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let operations = [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("patch", &mut item.patch),
        ];
        for (method, operation) in operations {
            if let Some(operation) = operation {
                add_to(operation, method, path);
            }
        }
    }
}

fn add_to(operation: &mut Operation, method: &str, path: &str) {
    let params = operation.parameters.as_deref().unwrap_or_default();
    let has_query = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Query));
    let takes_idempotency_key = params.iter().any(|p| p.name == "Idempotency-Key");
    let mut answers: Vec<(&str, &str)> = Vec::new();
    if operation.request_body.is_some() {
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
    if !is_public(method, path) {
        answers.push(("401", "unauthenticated: no session, or it ended"));
        answers.push((
            "403",
            "csrf_failed (writes: a cross-site request, or without the session's X-CSRF-Token), account_closing (during a closure's cool-down), owner_only or permission_denied (RAM users)",
        ));
    }
    if is_write(method) && is_public(method, path) {
        answers.push(("403", "csrf_failed: a cross-site write"));
    }
    let mut by_status: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (status, description) in answers {
        by_status.entry(status).or_default().push(description);
    }
    for (status, descriptions) in by_status {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error_answer(&descriptions.join("; ")));
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
    use utoipa::openapi::request_body::RequestBody;

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
    fn a_signed_in_json_write_with_a_key_gets_every_common_answer_and_keeps_its_own() {
        let mut operation = OperationBuilder::new()
            .request_body(Some(RequestBody::new()))
            .parameter(Parameter::new("Idempotency-Key"))
            .response("422", ResponseBuilder::new().description("batch_too_large"))
            .build();
        add_to(&mut operation, "post", "/api/unsubscribe");
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
                ("422", "batch_too_large"),
            ]
        );
    }

    #[test]
    fn a_public_read_gets_nothing_and_a_public_write_only_the_cross_site_refusal() {
        let mut read = OperationBuilder::new().build();
        add_to(&mut read, "get", "/api/health");
        assert_eq!(statuses(&read), []);
        let mut write = OperationBuilder::new().build();
        add_to(&mut write, "post", "/api/dev/run-jobs");
        assert_eq!(
            statuses(&write),
            [("403", "csrf_failed: a cross-site write")]
        );
    }

    #[test]
    fn sign_up_and_sign_in_are_public_and_the_rest_is_not() {
        assert!(is_public("post", "/api/signup/{id}/verify"));
        assert!(is_public("post", "/api/session"));
        assert!(!is_public("delete", "/api/session"));
        assert!(!is_public("get", "/api/session"));
        assert!(!is_public("post", "/api/dev/seed-demo"));
        assert!(is_public("post", "/api/dev/clock"));
    }
}
