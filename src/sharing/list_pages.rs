//! Paging of list endpoints: `maxResults` and opaque, signed `pageToken`s.
//!
//! A token names the last item of the previous page (keyset paging, so items added or removed
//! between pages neither repeat nor vanish) and the listing it belongs to (recipient, endpoint,
//! share, schema). It is signed, so a client can neither forge nor reuse it elsewhere.

use super::cursor::{seal, unseal};
use crate::secret::ServerSecret;
use crate::{Error, Result};

const DOMAIN: &str = "page-token";
pub const DEFAULT_PAGE_SIZE: usize = 500;
pub const MAX_PAGE_SIZE: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub limit: usize,
    /// Sort key of the last item already returned.
    pub after: Option<Vec<String>>,
}

/// Reads `maxResults` and `pageToken` for the listing identified by `scope`.
pub fn page_request(
    secret: &ServerSecret,
    scope: &str,
    max_results: Option<&str>,
    page_token: Option<&str>,
) -> Result<Page> {
    let limit = match max_results {
        None => DEFAULT_PAGE_SIZE,
        Some(text) => text
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= MAX_PAGE_SIZE)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "Acceptable values of 'maxResults' are 0 to {MAX_PAGE_SIZE}, inclusive. (Default: {DEFAULT_PAGE_SIZE})"
                ))
            })?,
    };
    // Clients that got no token send none; an empty one is treated the same way.
    let after = match page_token.filter(|t| !t.is_empty()) {
        None => None,
        Some(token) => Some(decode(secret, scope, token)?),
    };
    Ok(Page { limit, after })
}

/// The token that continues a listing after the item with sort key `after`.
pub fn next_page_token(secret: &ServerSecret, scope: &str, after: &[String]) -> String {
    seal(secret, DOMAIN, scope, &after)
}

fn decode(secret: &ServerSecret, scope: &str, token: &str) -> Result<Vec<String>> {
    unseal(secret, DOMAIN, scope, token)
        .ok_or_else(|| Error::invalid("invalid 'pageToken': it was not issued for this listing"))
}

/// Splits `items` (fetched with `limit + 1`) into the page and the token for the next one.
pub fn finish_page<T>(
    secret: &ServerSecret,
    scope: &str,
    page: &Page,
    mut items: Vec<T>,
    key: impl Fn(&T) -> Vec<String>,
) -> (Vec<T>, Option<String>) {
    if items.len() <= page.limit {
        return (items, None);
    }
    items.truncate(page.limit);
    let after = match items.last() {
        Some(last) => key(last),
        // maxResults=0: no items, but a token that resumes where this page started.
        None => page.after.clone().unwrap_or_default(),
    };
    (items, Some(next_page_token(secret, scope, &after)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_only_in_their_scope() {
        let s = ServerSecret::for_tests();
        let token = next_page_token(&s, "r1/shares", &["b".into()]);
        let page = page_request(&s, "r1/shares", Some("2"), Some(&token)).unwrap();
        assert_eq!(
            page,
            Page {
                limit: 2,
                after: Some(vec!["b".into()])
            }
        );
        assert!(page_request(&s, "r2/shares", None, Some(&token)).is_err());
        let mut forged = token.clone();
        forged.replace_range(0..1, "x");
        assert!(page_request(&s, "r1/shares", None, Some(&forged)).is_err());
        assert!(page_request(&s, "r1/shares", None, Some("garbage")).is_err());
        assert_eq!(
            page_request(&s, "r1/shares", None, Some("")).unwrap().after,
            None
        );
    }

    #[test]
    fn max_results_bounds() {
        let s = ServerSecret::for_tests();
        assert_eq!(
            page_request(&s, "x", None, None).unwrap().limit,
            DEFAULT_PAGE_SIZE
        );
        assert_eq!(page_request(&s, "x", Some("0"), None).unwrap().limit, 0);
        for bad in ["-1", "abc", "1001"] {
            let e = page_request(&s, "x", Some(bad), None).unwrap_err();
            assert_eq!(e.code(), crate::ErrorCode::InvalidParameterValue);
        }
    }

    #[test]
    fn pages_end_without_a_token() {
        let s = ServerSecret::for_tests();
        let page = Page {
            limit: 2,
            after: None,
        };
        let key = |x: &&str| vec![x.to_string()];
        let (items, next) = finish_page(&s, "x", &page, vec!["a", "b", "c"], key);
        assert_eq!(items, ["a", "b"]);
        let next = next.unwrap();
        assert_eq!(
            page_request(&s, "x", None, Some(&next)).unwrap().after,
            Some(vec!["b".into()])
        );
        let (items, next) = finish_page(&s, "x", &page, vec!["c"], key);
        assert_eq!((items, next), (vec!["c"], None));
        let empty = Page {
            limit: 0,
            after: None,
        };
        let (items, next) = finish_page(&s, "x", &empty, vec!["a"], key);
        assert!(items.is_empty() && next.is_some());
    }
}
