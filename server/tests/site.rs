//! The built app as the server sends it: the brotli or gzip copy `.ci/build-app` writes beside
//! each file goes to a browser that accepts it, with the original file's content type; any
//! other browser gets the file itself.

mod common;

use common::*;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use std::path::Path;

const WASM: &[u8] = b"\0asm\x01\0\0\0 the module itself";
const WASM_BR: &[u8] = b"the module, brotli-compressed";
const WASM_GZ: &[u8] = b"the module, gzip-compressed";
const INDEX: &[u8] = b"<!doctype html><title>Account Center</title>";
const INDEX_BR: &[u8] = b"index.html, brotli-compressed";

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
