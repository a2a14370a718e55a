//! Which operations need a session, and which read a JSON body, read from what their handlers
//! extract rather than kept in lists: a handler that takes a session ([`CurrentSession`],
//! [`MemberSession`], [`SessionAndAccount`]) is refused `401 unauthenticated` without one,
//! and every other handler answers without one; a handler that takes [`Json`] refuses a body
//! that is not JSON, and one that takes the raw [`Bytes`] (a signed webhook) does not.
//! [`routes!`] routes handlers as utoipa-axum's `routes!` does and marks each operation with
//! those facts; `openapi::add_common_answers` turns the mark into the CSRF header and the
//! answers that follow from them. A handler taking a new kind of extractor does not compile
//! until the extractor says here whether it needs a session.

use crate::auth::{ClientIp, CurrentSession, MemberSession, Origin, SessionAndAccount};
use crate::error::{Json, Query};
use crate::openapi::{self, Mark};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use utoipa_axum::router::UtoipaMethodRouter;

/// A handler's argument.
pub trait Extractor {
    /// Whether it refuses a request without a live session (401 `unauthenticated`).
    const SIGNED_IN: bool;
    /// Whether it reads the body as JSON, and so refuses one that is not (400, 415, 422).
    const JSON_BODY: bool = false;
}

macro_rules! extractors {
    ($signed_in:literal: $($ty:ty),+ $(,)?) => {$(
        impl Extractor for $ty {
            const SIGNED_IN: bool = $signed_in;
        }
    )+};
}

extractors!(true: CurrentSession, MemberSession, SessionAndAccount);
extractors!(false: State<AppState>, HeaderMap, Bytes, ClientIp, Origin);

impl<T> Extractor for Path<T> {
    const SIGNED_IN: bool = false;
}

impl<T> Extractor for Json<T> {
    const SIGNED_IN: bool = false;
    const JSON_BODY: bool = true;
}

impl<T> Extractor for Query<T> {
    const SIGNED_IN: bool = false;
}

/// A handler, by the types of its arguments (`Args`, a tuple of them, as axum's `Handler`
/// names them): it needs a session when any of them does, and reads a JSON body when any of
/// them does.
pub trait Extracts<Args> {
    const MARK: Mark;
}

macro_rules! extracts {
    ($($arg:ident),*) => {
        impl<F, Fut, $($arg: Extractor),*> Extracts<($($arg,)*)> for F
        where
            F: FnOnce($($arg),*) -> Fut,
        {
            const MARK: Mark = Mark {
                signed_in: false $(|| $arg::SIGNED_IN)*,
                json_body: false $(|| $arg::JSON_BODY)*,
            };
        }
    };
}

// As many arguments as a handler here takes, and some to spare; axum allows up to 16.
extracts!();
extracts!(A);
extracts!(A, B);
extracts!(A, B, C);
extracts!(A, B, C, D);
extracts!(A, B, C, D, E);
extracts!(A, B, C, D, E, G);
extracts!(A, B, C, D, E, G, H);
extracts!(A, B, C, D, E, G, H, I);

/// Marks the operations `routes!(handler)` made with what `handler`'s extractors do.
pub fn marked<H: Extracts<Args>, Args>(
    _handler: &H,
    (schemas, mut paths, router): UtoipaMethodRouter<AppState>,
) -> UtoipaMethodRouter<AppState> {
    for item in paths.paths.values_mut() {
        for (_, operation) in openapi::operations_mut(item) {
            openapi::mark(operation, H::MARK);
        }
    }
    (schemas, paths, router)
}

/// The routes of two handlers as one, as utoipa-axum's `routes!(a, b)` makes them: the
/// operations of each path together, and one method router for them all.
pub fn merged(
    (mut schemas, mut paths, router): UtoipaMethodRouter<AppState>,
    (more_schemas, more_paths, more_router): UtoipaMethodRouter<AppState>,
) -> UtoipaMethodRouter<AppState> {
    schemas.extend(more_schemas);
    for (path, item) in more_paths.paths {
        match paths.paths.get_mut(&path) {
            Some(existing) => existing.merge_operations(item),
            None => {
                paths.paths.insert(path, item);
            }
        }
    }
    (schemas, paths, router.merge(more_router))
}

/// utoipa-axum's `routes!`, each handler's operations marked with whether it needs a session
/// (see the module's documentation).
macro_rules! routes {
    ($($handler:ident),+ $(,)?) => {
        [$(
            $crate::routes::access::marked(&$handler, utoipa_axum::routes!($handler))
        ),+]
        .into_iter()
        .reduce($crate::routes::access::merged)
        .expect("routes! names a handler")
    };
}

pub(crate) use routes;

#[cfg(test)]
mod tests {
    use super::*;

    fn signed_in<H: Extracts<Args>, Args>(_: &H) -> bool {
        H::MARK.signed_in
    }

    fn json_body<H: Extracts<Args>, Args>(_: &H) -> bool {
        H::MARK.json_body
    }

    async fn health() {}
    async fn sign_up(_: State<AppState>, _: ClientIp, _: Json<()>) {}
    async fn renew(_: State<AppState>, _: MemberSession, _: HeaderMap, _: Path<String>) {}
    async fn whoami(_: SessionAndAccount) {}

    #[test]
    fn a_handler_needs_a_session_when_any_of_its_extractors_does() {
        assert!(!signed_in(&health));
        assert!(!signed_in(&sign_up));
        assert!(signed_in(&renew));
        assert!(signed_in(&whoami));
    }

    async fn webhook(_: State<AppState>, _: HeaderMap, _: Bytes) {}

    #[test]
    fn a_handler_reads_a_json_body_when_it_extracts_one() {
        assert!(json_body(&sign_up));
        assert!(!json_body(&renew) && !json_body(&webhook) && !json_body(&health));
    }
}
