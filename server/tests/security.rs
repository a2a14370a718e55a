//! Every route of the API document, tried as a stranger: without a session, with another
//! account's session, and as a RAM user without permissions. Each is refused, and no answer
//! carries the owner's data.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::api::{
    InstanceStatus, InstanceView, PaymentMethodsView, RamUserView, SessionInfo, SessionList,
};
use shared::{ErrorBody, ErrorCode};

/// Routes a signed-in RAM user may use whatever its permissions: its own session.
fn is_self_service(path: &str) -> bool {
    path == "/api/session" || path == "/api/session/reauth"
}

struct Owned {
    instance: String,
    method: String,
    ram_user: String,
    /// The owner's session, as its list names it.
    session: String,
}

/// The owner's account with something behind every kind of ID.
async fn victim(app: &mut TestApp) -> (String, Owned) {
    let email = app.ready_to_buy("victim").await;
    let instance = app.buy("ecs", 1, "default_method").await;
    let methods: PaymentMethodsView = app.get_as("/api/payment-methods").await;
    let ram: RamUserView = body_as(
        app.post(
            "/api/ram-users",
            &json!({"username": "ops", "password": "Turbine9Blue", "permissions": []}),
        )
        .await,
    )
    .await;
    let sessions: SessionList = app.get_as("/api/sessions").await;
    let owned = Owned {
        session: sessions.sessions[0].id.clone(),
        instance,
        method: methods.methods[0].id.clone(),
        ram_user: ram.id,
    };
    (email, owned)
}

fn concrete(path: &str, owned: &Owned) -> String {
    let id = if path.contains("/payment-methods/") {
        &owned.method
    } else if path.contains("/ram-users/") {
        &owned.ram_user
    } else if path.contains("/sessions/") {
        &owned.session
    } else {
        &owned.instance
    };
    path.replace("{id}", id)
}

/// An operation of the API document, and whether the document says it answers without a
/// session: an operation that needs one lists `unauthenticated` among its 401 answers (the
/// server reads that from the handler's extractors, see `server::routes::access`; which
/// operations are public is part of the document's snapshot).
struct Operation {
    method: String,
    path: String,
    public: bool,
}

async fn operations(app: &TestApp) -> Vec<Operation> {
    let doc: Value = app.get_as("/api/openapi.json").await;
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let unauthenticated = operation["responses"]["401"]["description"]
                .as_str()
                .is_some_and(|reasons| reasons.contains("unauthenticated"));
            ops.push(Operation {
                method: method.to_uppercase(),
                path: path.clone(),
                public: !unauthenticated,
            });
        }
    }
    assert!(ops.len() > 40, "the document lists the whole API");
    assert!(
        ops.iter().any(|op| op.public) && ops.iter().any(|op| !op.public),
        "the document tells public operations from signed-in ones"
    );
    ops
}

async fn call(client: &TestApp, method: &str, path: &str) -> (StatusCode, String) {
    let request = client.client.request(
        Method::from_bytes(method.as_bytes()).unwrap(),
        client.url(path),
    );
    let request = request
        .header("x-csrf-token", client.csrf.clone().unwrap_or_default())
        .header("idempotency-key", uuid::Uuid::new_v4().to_string());
    let request = if method == "GET" {
        request
    } else {
        request.json(&json!({}))
    };
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn no_private_route_answers_without_a_session() {
    let mut app = spawn_app().await;
    let (_, owned) = victim(&mut app).await;
    let anonymous = app.another_client();
    for Operation {
        method,
        path,
        public,
    } in operations(&app).await
    {
        let (status, body) = call(&anonymous, &method, &concrete(&path, &owned)).await;
        // The document's public operations are exact both ways: these answer without a
        // session (whatever else they say of the empty body), the others never do.
        if public {
            assert_ne!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {body}");
            continue;
        }
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {body}");
        let code = serde_json::from_str::<ErrorBody>(&body).map(|e| e.code);
        assert!(
            matches!(code, Ok(ErrorCode::Unauthenticated)),
            "{method} {path}: {body}"
        );
    }
}

#[tokio::test]
async fn another_account_never_reaches_the_owners_things() {
    let mut app = spawn_app().await;
    let (email, owned) = victim(&mut app).await;
    let mut stranger = app.another_client();
    stranger.signed_up("stranger").await;
    for Operation {
        method,
        path,
        public,
    } in operations(&app).await
    {
        if public || !path.contains("{id}") {
            continue;
        }
        let (status, body) = call(&stranger, &method, &concrete(&path, &owned)).await;
        assert!(
            status == StatusCode::NOT_FOUND
                || status == StatusCode::UNPROCESSABLE_ENTITY
                || status == StatusCode::CONFLICT,
            "{method} {path} answered {status}: {body}"
        );
        assert!(
            !body.contains(&email) && !body.contains(&owned.instance[2..]),
            "{method} {path} leaks: {body}"
        );
    }
    // Nothing of the owner's changed.
    let instances: Vec<InstanceView> = app.get_as("/api/instances").await;
    assert_eq!(instances[0].status, InstanceStatus::Running);
    let methods: PaymentMethodsView = app.get_as("/api/payment-methods").await;
    assert_eq!(methods.methods.len(), 1);
    assert_eq!(app.count("ram_users").await, 1);
    assert_eq!(app.get("/api/session").await.status(), StatusCode::OK);
    // The stranger's own lists hold nothing of the owner's.
    for path in [
        "/api/instances",
        "/api/unsubscribe",
        "/api/payment-methods",
        "/api/ledger",
        "/api/closure/ties",
        "/api/closure/export",
        "/api/ram-users",
        "/api/sessions",
    ] {
        let (status, body) = call(&stranger, "GET", path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            !body.contains(&owned.instance)
                && !body.contains(&owned.method)
                && !body.contains(&owned.session)
                && !body.contains(&email),
            "{path} leaks: {body}"
        );
    }
}

#[tokio::test]
async fn a_ram_user_without_permissions_is_refused_everything_but_its_session() {
    let mut app = spawn_app().await;
    let (_, owned) = victim(&mut app).await;
    let me: SessionInfo = app.get_as("/api/session").await;
    let mut ram = app.another_client();
    let login =
        json!({"account_alias": me.account.uid, "username": "ops", "password": "Turbine9Blue"});
    let session: SessionInfo = body_as(ram.post("/api/session/ram", &login).await).await;
    ram.csrf = Some(session.csrf_token);
    for Operation {
        method,
        path,
        public,
    } in operations(&app).await
    {
        if public || is_self_service(&path) {
            continue;
        }
        let (status, body) = call(&ram, &method, &concrete(&path, &owned)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {body}");
        let code = serde_json::from_str::<ErrorBody>(&body).map(|e| e.code);
        assert!(
            matches!(code, Ok(ErrorCode::OwnerOnly | ErrorCode::PermissionDenied)),
            "{method} {path}: {body}"
        );
    }
    let instances: Vec<InstanceView> = app.get_as("/api/instances").await;
    assert_eq!(instances[0].status, InstanceStatus::Running);
}
