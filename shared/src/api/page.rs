//! Page numbers of the API's paged lists (`GET /api/unsubscribe`, `GET /api/operation-log`).

use crate::error::{ErrorCode, FieldError, Invalid};

/// The last page number a paged list takes: the document's integers are 32-bit.
pub const MAX_PAGE: u32 = 2_147_483_647;

/// Refuses a page past [`MAX_PAGE`] (clamping it instead would accept a request the document
/// forbids).
pub fn check_page(page: Option<u32>) -> Result<(), FieldError> {
    if page.is_some_and(|p| p > MAX_PAGE) {
        return Err(Invalid::new(
            ErrorCode::BadRequest,
            format!("Choose a page from 1 to {MAX_PAGE}."),
        )
        .at("page"));
    }
    Ok(())
}

/// The 1-based page asked for: the first when none is, and 0 counts as 1.
pub fn page_number(page: Option<u32>) -> u32 {
    page.unwrap_or(1).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_run_from_one_to_the_maximum() {
        assert!(check_page(None).is_ok());
        assert!(check_page(Some(0)).is_ok());
        assert!(check_page(Some(MAX_PAGE)).is_ok());
        let past = check_page(Some(MAX_PAGE + 1)).unwrap_err();
        assert_eq!(past.code, ErrorCode::BadRequest);
        assert_eq!(past.field, "page");
    }

    #[test]
    fn no_page_or_page_zero_is_the_first() {
        assert_eq!(page_number(None), 1);
        assert_eq!(page_number(Some(0)), 1);
        assert_eq!(page_number(Some(7)), 7);
    }
}
