//! What every answer carries besides its body: the request's id, which every log line of the
//! request carries too, and the browser's security headers.

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::Path;

/// The request id's header, on every answer, and on the request as the handlers see it.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id taken from a trusted proxy.
const REQUEST_ID_MAX: usize = 128;

/// Gives the request an id: the proxy's when the server trusts its proxy (`--trust-proxy`) and
/// the id is short printable text, else a new one. The id goes on the request, for the trace
/// span every log line of the request is written in (`lib::router`), and on the answer, so an
/// operator can find a user's failed request in the logs.
pub async fn with_request_id(
    State(trust_proxy): State<bool>,
    mut request: Request,
    next: Next,
) -> Response {
    let given = request
        .headers()
        .get(&REQUEST_ID)
        .filter(|_| trust_proxy)
        .filter(|id| is_plain_id(id.as_bytes()))
        .cloned();
    let id = given.unwrap_or_else(|| {
        HeaderValue::from_str(&uuid::Uuid::new_v4().simple().to_string())
            .expect("hex digits are a header value")
    });
    request.headers_mut().insert(REQUEST_ID.clone(), id.clone());
    let mut response = next.run(request).await;
    response.headers_mut().insert(REQUEST_ID.clone(), id);
    response
}

/// Letters, digits, `-`, `_`, `.` and `:`, 1 to [`REQUEST_ID_MAX`] of them: nothing a log line
/// could be forged with.
fn is_plain_id(id: &[u8]) -> bool {
    (1..=REQUEST_ID_MAX).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The request id of a request [`with_request_id`] has seen, for the trace span.
pub fn request_id_of<B>(request: &axum::http::Request<B>) -> &str {
    request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|id| id.to_str().ok())
        .unwrap_or("")
}

/// Stripe.js, which tokenizes cards in the browser when cards go through Stripe: the one origin
/// scripts come from besides ours, and the origins its card field's frames and calls use
/// (Stripe's published CSP list: <https://docs.stripe.com/security/guide#content-security-policy>).
pub const STRIPE_JS: &str = "https://js.stripe.com/v3/";
const STRIPE_SCRIPT_ORIGIN: &str = "https://js.stripe.com";
const STRIPE_FRAME_ORIGINS: &str = "https://js.stripe.com https://hooks.stripe.com";
const STRIPE_CONNECT_ORIGIN: &str = "https://api.stripe.com";

/// The Content-Security-Policy of every answer. Scripts: the app's own files, its WebAssembly
/// (`'wasm-unsafe-eval'` lets the page compile it, and nothing else), and the inline scripts of
/// the built pages (`index.html`, and `signin.html` with the sign-in form's) by their hashes, so
/// no other inline script runs. Styles may be inline:
/// the app sets `style` attributes. Nothing is loaded from elsewhere, no page may frame this one,
/// and forms post only here. With `stripe`, exactly Stripe.js's origins are added: its script,
/// its card field's frames, and its calls to Stripe's API.
pub fn content_security_policy(site: &Path, stripe: bool) -> HeaderValue {
    let pages: Vec<String> = ["index.html", "signin.html"]
        .iter()
        .filter_map(|page| std::fs::read_to_string(site.join(page)).ok())
        .collect();
    let hashes: BTreeSet<String> = pages
        .iter()
        .flat_map(|page| inline_scripts(page))
        .map(|script| {
            let digest = Sha256::digest(script.as_bytes());
            format!(
                " 'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect();
    let hashes: String = hashes.into_iter().collect();
    let (script, frame, connect) = if stripe {
        (
            format!(" {STRIPE_SCRIPT_ORIGIN}"),
            format!("frame-src {STRIPE_FRAME_ORIGINS}; "),
            format!(" {STRIPE_CONNECT_ORIGIN}"),
        )
    } else {
        Default::default()
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}{script}; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'{connect}; \
         {frame}object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    HeaderValue::from_str(&policy).expect("the policy is ASCII")
}

/// The text of each `<script>` element of `html` that has no `src`, as the browser hashes it.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    let mut rest = html;
    std::iter::from_fn(move || {
        loop {
            let start = rest.find("<script")?;
            let tag_end = start + rest[start..].find('>')?;
            let body_start = tag_end + 1;
            let body_end = body_start + rest[body_start..].find("</script>")?;
            let tag = &rest[start..tag_end];
            let body = &rest[body_start..body_end];
            rest = &rest[body_end..];
            if !tag.contains("src=") {
                return Some(body);
            }
        }
    })
}

/// `Strict-Transport-Security` for production: browsers that reached the service over HTTPS
/// use nothing else for a year (sent over plain HTTP, browsers ignore it).
pub const STRICT_TRANSPORT_SECURITY: HeaderValue =
    HeaderValue::from_static("max-age=31536000; includeSubDomains");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_id_from_the_proxy_must_be_plain_and_short() {
        assert!(is_plain_id(b"req-1f2e_3.4:5"));
        assert!(is_plain_id(&[b'a'; REQUEST_ID_MAX]));
        assert!(!is_plain_id(&[b'a'; REQUEST_ID_MAX + 1]));
        assert!(!is_plain_id(b""));
        assert!(!is_plain_id(b"a b"));
        assert!(!is_plain_id(b"a\"b"));
    }

    #[test]
    fn inline_scripts_are_found_and_external_ones_are_not() {
        let html = "<script>one()</script><script type=\"module\">\n  two()\n</script>\
                    <script src=\"/x.js\"></script>";
        assert_eq!(
            inline_scripts(html).collect::<Vec<_>>(),
            ["one()", "\n  two()\n"]
        );
    }
}
