//! The built app as the server sends it: the brotli or gzip copy `.ci/build-app` writes beside
//! each file goes to a browser that accepts it, with the original file's content type; any
//! other browser gets the file itself.

mod common;

use common::*;
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, COOKIE, VARY,
};
use std::path::Path;

const WASM: &[u8] = b"\0asm\x01\0\0\0 the module itself";
const WASM_BR: &[u8] = b"the module, brotli-compressed";
const WASM_GZ: &[u8] = b"the module, gzip-compressed";
const INDEX: &[u8] = b"<!doctype html><title>Account Center</title>";
const INDEX_BR: &[u8] = b"index.html, brotli-compressed";
const SIGNIN_BR: &[u8] = b"signin.html (index.html with the sign-in form), brotli-compressed";

/// A site as `.ci/build-app` lays it out, in the test server's site folder. Only the server's
/// choice of file is under test, so the "compressed" copies are marked plain bytes.
fn built_site(app: &TestApp) {
    let site: &Path = &app.state.config.site_dir;
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    for (name, bytes) in [
        ("pkg/app_bg.wasm", WASM),
        ("pkg/app_bg.wasm.br", WASM_BR),
        ("pkg/app_bg.wasm.gz", WASM_GZ),
        ("index.html", INDEX),
        ("index.html.br", INDEX_BR),
        ("signin.html", INDEX),
        ("signin.html.br", SIGNIN_BR),
    ] {
        std::fs::write(site.join(name), bytes).unwrap();
    }
}

async fn fetch(app: &TestApp, path: &str, accept: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    if let Some(accept) = accept {
        request = request.header(ACCEPT_ENCODING, accept);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response
}

fn header(response: &reqwest::Response, name: reqwest::header::HeaderName) -> Option<&str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn a_browser_accepting_brotli_gets_the_brotli_module_as_wasm() {
    let app = spawn_app().await;
    built_site(&app);

    let response = fetch(&app, "/pkg/app_bg.wasm", Some("gzip, deflate, br, zstd")).await;

    assert_eq!(header(&response, CONTENT_ENCODING), Some("br"));
    assert_eq!(header(&response, CONTENT_TYPE), Some("application/wasm"));
    assert!(
        header(&response, VARY).is_some_and(|v| v.to_ascii_lowercase().contains("accept-encoding")),
        "a cache must know the body depends on Accept-Encoding"
    );
    assert_eq!(response.bytes().await.unwrap(), WASM_BR);
}

#[tokio::test]
async fn a_browser_accepting_only_gzip_gets_the_gzip_module() {
    let app = spawn_app().await;
    built_site(&app);

    let response = fetch(&app, "/pkg/app_bg.wasm", Some("gzip")).await;

    assert_eq!(header(&response, CONTENT_ENCODING), Some("gzip"));
    assert_eq!(header(&response, CONTENT_TYPE), Some("application/wasm"));
    assert_eq!(response.bytes().await.unwrap(), WASM_GZ);
}

#[tokio::test]
async fn a_browser_accepting_no_encoding_gets_the_module_itself() {
    let app = spawn_app().await;
    built_site(&app);

    for accept in [None, Some("identity")] {
        let response = fetch(&app, "/pkg/app_bg.wasm", accept).await;

        assert_eq!(header(&response, CONTENT_ENCODING), None, "{accept:?}");
        assert_eq!(header(&response, CONTENT_TYPE), Some("application/wasm"));
        assert_eq!(response.bytes().await.unwrap(), WASM);
    }
}

#[tokio::test]
async fn an_app_route_gets_the_brotli_index_page_as_html() {
    let app = spawn_app().await;
    built_site(&app);

    let response = fetch(&app, "/billing/overview", Some("br")).await;

    assert_eq!(header(&response, CONTENT_ENCODING), Some("br"));
    assert!(header(&response, CONTENT_TYPE).is_some_and(|v| v.starts_with("text/html")));
    assert_eq!(response.bytes().await.unwrap(), INDEX_BR);

    let plain = fetch(&app, "/billing/overview", None).await;
    assert_eq!(header(&plain, CONTENT_ENCODING), None);
    assert_eq!(plain.bytes().await.unwrap(), INDEX);
}

#[tokio::test]
async fn a_missing_file_of_the_app_code_is_not_found_rather_than_the_index_page() {
    let app = spawn_app().await;
    built_site(&app);

    for path in ["/pkg/chunk_9999.wasm", "/pkg/__wasm_split.js"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();

        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(
            !header(&response, CONTENT_TYPE).is_some_and(|v| v.starts_with("text/html")),
            "{path}: the index page must not stand in for code"
        );
    }
    // A page of the app under any other path still gets the index page.
    let page = fetch(&app, "/unsubscribe/records/42", None).await;
    assert_eq!(page.bytes().await.unwrap(), INDEX);
}

#[tokio::test]
async fn the_build_folder_is_kept_for_a_year_and_the_index_page_is_checked_on_every_visit() {
    let app = spawn_app().await;
    built_site(&app);

    let module = fetch(&app, "/pkg/app_bg.wasm", Some("br")).await;
    assert_eq!(
        header(&module, CACHE_CONTROL),
        Some("public, max-age=31536000, immutable")
    );

    // index.html names the current build's folder: a browser must not keep an old one.
    for path in ["/", "/billing", "/index.html"] {
        let page = fetch(&app, path, Some("br")).await;
        assert_eq!(header(&page, CACHE_CONTROL), Some("no-cache"), "{path}");
    }

    // A missing file is not to be kept: the next deploy may bring it.
    let missing = app
        .client
        .get(app.url("/pkg/chunk_9999.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(header(&missing, CACHE_CONTROL), None);
}

#[tokio::test]
async fn a_visitor_without_a_session_gets_the_sign_in_form_in_the_page_itself() {
    let app = spawn_app().await;
    built_site(&app);

    for (path, expected) in [
        ("/", SIGNIN_BR),
        ("/signin", SIGNIN_BR),
        ("/billing", INDEX_BR),
    ] {
        let page = fetch(&app, path, Some("br")).await;
        assert_eq!(header(&page, CONTENT_TYPE), Some("text/html"), "{path}");
        assert_eq!(header(&page, CACHE_CONTROL), Some("no-cache"), "{path}");
        assert_eq!(page.bytes().await.unwrap(), expected, "{path}");
    }
    let page = fetch(&app, "/", Some("br")).await;
    let vary: Vec<String> = page
        .headers()
        .get_all(VARY)
        .iter()
        .map(|v| v.to_str().unwrap().to_ascii_lowercase())
        .collect();
    assert!(
        vary.iter().any(|v| v.contains("cookie"))
            && vary.iter().any(|v| v.contains("accept-encoding")),
        "a cache must know the page depends on the session cookie and the encoding: {vary:?}"
    );

    // With a session cookie (valid or not: the app asks the server), the app's page alone: a
    // signed-in visitor never sees a sign-in form while the console loads.
    for path in ["/", "/signin"] {
        let page = app
            .client
            .get(app.url(path))
            .header(ACCEPT_ENCODING, "br")
            .header(COOKIE, "ac_session=a-token")
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        assert_eq!(page.bytes().await.unwrap(), INDEX_BR, "{path}");
    }
}

#[tokio::test]
async fn a_site_built_without_the_sign_in_page_answers_the_app_page_everywhere() {
    let app = spawn_app().await;
    built_site(&app);
    std::fs::remove_file(app.state.config.site_dir.join("signin.html")).unwrap();

    let page = fetch(&app, "/signin", Some("identity")).await;
    assert_eq!(page.bytes().await.unwrap(), INDEX);
}

fn request_id(response: &reqwest::Response) -> String {
    header(
        response,
        reqwest::header::HeaderName::from_static("x-request-id"),
    )
    .unwrap_or_else(|| panic!("{} has a request id", response.url()))
    .to_owned()
}

/// Every answer (the API's, an error, the app's files) names its request with an id of its
/// own, the id every log line of that request carries. A client cannot choose it: only a
/// trusted proxy's (`--trust-proxy`) is kept, and only when it is short plain text.
#[tokio::test]
async fn every_answer_carries_an_id_of_its_own_and_only_a_trusted_proxy_may_give_it() {
    let app = spawn_app().await;
    built_site(&app);
    let mut ids = Vec::new();
    for path in [
        "/api/health",
        "/api/nowhere",
        "/",
        "/pkg/app_bg.wasm",
        "/api/health",
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        let id = request_id(&response);
        assert!(
            id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{path}: {id}"
        );
        ids.push(id);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "each answer its own id");

    let given = |app: &TestApp, id: &'static str| {
        let request = app
            .client
            .get(app.url("/api/health"))
            .header("x-request-id", id);
        async move { request_id(&request.send().await.unwrap()) }
    };
    assert_ne!(
        given(&app, "lb-7f3a").await,
        "lb-7f3a",
        "not behind a trusted proxy"
    );
    let proxied = spawn_app_with(&["--trust-proxy"]).await;
    assert_eq!(given(&proxied, "lb-7f3a").await, "lb-7f3a");
    let forged = given(&proxied, "x\" admin=true").await;
    assert_eq!(forged.len(), 32, "{forged}");
}

/// The browser's security headers are on every answer: the Content-Security-Policy (the app's
/// scripts and WebAssembly, the built index page's inline scripts by hash, nothing from
/// elsewhere, no framing) and, in production only, Strict-Transport-Security.
#[tokio::test]
async fn every_answer_carries_the_security_policy_and_production_strict_transport() {
    let dev = spawn_app().await;
    let prod = spawn_app_with(&["--mode", "prod"]).await;
    for (app, hsts) in [
        (&dev, None),
        (&prod, Some("max-age=31536000; includeSubDomains")),
    ] {
        for path in ["/api/health", "/", "/api/nowhere"] {
            let response = app.client.get(app.url(path)).send().await.unwrap();
            let policy = header(&response, reqwest::header::CONTENT_SECURITY_POLICY)
                .unwrap_or_else(|| panic!("{path} has a policy"));
            for directive in [
                "default-src 'self'",
                "script-src 'self' 'wasm-unsafe-eval'",
                "object-src 'none'",
                "frame-ancestors 'none'",
            ] {
                assert!(policy.contains(directive), "{path}: {policy}");
            }
            assert_eq!(
                header(&response, reqwest::header::STRICT_TRANSPORT_SECURITY),
                hsts,
                "{path}"
            );
        }
    }
}

/// The policy allows the inline scripts of the built index page by their SHA-256, and no
/// other inline script: checked here against `public/index.html`, the page `.ci/build-app`
/// copies (the end-to-end suite fails on any policy violation in the browser).
#[test]
fn the_policy_names_each_inline_script_of_the_index_page_by_its_hash() {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let public = Path::new(env!("CARGO_MANIFEST_DIR")).join("../public");
    let page = std::fs::read_to_string(public.join("index.html")).unwrap();
    let policy = server::headers::content_security_policy(&public, false);
    let policy = policy.to_str().unwrap();
    let scripts: Vec<&str> = page
        .split("<script")
        .skip(1)
        .filter(|s| !s.starts_with(" src="))
        .map(|s| &s[s.find('>').unwrap() + 1..s.find("</script>").unwrap()])
        .collect();
    assert_eq!(
        scripts.len(),
        3,
        "the error notice, the module's start and the sign-in form's hand-over"
    );
    for script in scripts {
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script));
        assert!(policy.contains(&format!("'sha256-{hash}'")), "{policy}");
    }
    let scripts = policy
        .split(';')
        .find(|d| d.trim_start().starts_with("script-src"))
        .unwrap();
    assert!(!scripts.contains("'unsafe-inline'"), "{scripts}");
}

/// The built site has two pages (`.ci/pages.mjs`): the sign-in page's own script, which the
/// other page lacks, is allowed too, and a script both carry is named once.
#[test]
fn the_policy_names_the_scripts_of_both_built_pages() {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let site = tempfile::tempdir().unwrap();
    let (shared, own) = (
        "addEventListener('error',stopped)",
        "document.body.append(form)",
    );
    std::fs::write(
        site.path().join("index.html"),
        format!("<head><script>{shared}</script></head>"),
    )
    .unwrap();
    std::fs::write(
        site.path().join("signin.html"),
        format!("<head><script>{shared}</script></head><body><script>{own}</script></body>"),
    )
    .unwrap();

    let policy = server::headers::content_security_policy(site.path(), false);
    let policy = policy.to_str().unwrap();
    for script in [shared, own] {
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script));
        assert_eq!(
            policy.matches(&format!("'sha256-{hash}'")).count(),
            1,
            "{script}: {policy}"
        );
    }
}

/// Where cards go through Stripe, the policy adds exactly Stripe.js's origins: its script, its
/// card field's frames and its API; without Stripe nothing but this server is named.
#[test]
fn the_policy_names_stripes_origins_only_where_cards_go_through_stripe() {
    let public = Path::new(env!("CARGO_MANIFEST_DIR")).join("../public");
    let directive = |stripe: bool, name: &str| {
        let policy = server::headers::content_security_policy(&public, stripe);
        policy
            .to_str()
            .unwrap()
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with(name))
            .map(str::to_owned)
    };
    let script = directive(true, "script-src").unwrap();
    assert!(script.ends_with(" https://js.stripe.com"), "{script}");
    assert_eq!(
        directive(true, "frame-src").as_deref(),
        Some("frame-src https://js.stripe.com https://hooks.stripe.com")
    );
    assert_eq!(
        directive(true, "connect-src").as_deref(),
        Some("connect-src 'self' https://api.stripe.com")
    );
    assert!(!directive(false, "script-src").unwrap().contains("stripe"));
    assert_eq!(
        directive(false, "frame-src"),
        None,
        "default-src 'self' frames"
    );
    assert_eq!(
        directive(false, "connect-src").as_deref(),
        Some("connect-src 'self'")
    );
}
