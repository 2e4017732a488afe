//! Signed URLs for files of local tables, pointing back at this server's `/files/` route.
//!
//! `{public}/files/{table_id}/{path}?Expires={ms}&Recipient={id}&X-Amz-Signature={hex}`. The
//! signature is an HMAC over the table id, the decoded path, the expiry and the recipient the
//! URL was issued to (so that downloads obey that recipient's IP access list). The query key
//! must be `X-Amz-Signature`: the connector's delta-format reader treats a URL as presigned only
//! when it carries such a key.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use subtle::ConstantTimeEq;

use crate::secret::ServerSecret;
use crate::{Error, Result};

const DOMAIN: &str = "file-url";
/// Route prefix of file downloads.
pub const FILES_ROUTE: &str = "/files/";

/// Characters left unescaped in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'=');

#[derive(Debug, Clone)]
pub struct FileUrlSigner {
    secret: ServerSecret,
    public_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedUrl {
    pub url: String,
    /// Milliseconds since the epoch after which the URL is refused.
    pub expires_at: i64,
}

impl FileUrlSigner {
    pub fn new(secret: ServerSecret, public_url: &str) -> Self {
        FileUrlSigner {
            secret,
            public_url: public_url.trim_end_matches('/').to_string(),
        }
    }

    /// A URL for `path` (decoded, relative to the root of table `table_id`) for recipient
    /// `recipient_id`, valid until `expires_at` (ms since the epoch).
    pub fn sign(
        &self,
        table_id: &str,
        recipient_id: &str,
        path: &str,
        expires_at: i64,
    ) -> SignedUrl {
        let signature = self.signature(table_id, recipient_id, path, expires_at);
        let mut url = String::with_capacity(self.public_url.len() + path.len() + 200);
        url.push_str(&self.public_url);
        url.push_str(FILES_ROUTE);
        url.push_str(table_id);
        for segment in path.split('/') {
            url.push('/');
            url.extend(utf8_percent_encode(segment, SEGMENT));
        }
        url.push_str("?Expires=");
        url.push_str(&expires_at.to_string());
        url.push_str("&Recipient=");
        url.extend(utf8_percent_encode(recipient_id, SEGMENT));
        url.push_str("&X-Amz-Signature=");
        let mut hex = [0u8; 64];
        hex::encode_to_slice(signature, &mut hex).expect("32 bytes fill 64 hex digits");
        url.push_str(std::str::from_utf8(&hex).expect("hex digits are ASCII"));
        SignedUrl { url, expires_at }
    }

    /// Checks a request for `/files/{table_id}/{path}?{query}`; returns the recipient the URL
    /// was issued to.
    pub fn verify(&self, table_id: &str, path: &str, query: &str, now: i64) -> Result<String> {
        let (mut expires, mut recipient, mut signature) = (None, None, None);
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "Expires" => expires = Some(value.into_owned()),
                "Recipient" => recipient = Some(value.into_owned()),
                "X-Amz-Signature" => signature = Some(value.into_owned()),
                _ => {}
            }
        }
        let denied = |why: &str| Error::permission_denied(format!("the file URL {why}"));
        let expires_at: i64 = expires
            .and_then(|e| e.parse().ok())
            .ok_or_else(|| denied("has no valid Expires parameter"))?;
        let recipient = recipient.ok_or_else(|| denied("names no recipient"))?;
        let signature = signature
            .and_then(|s| hex::decode(s).ok())
            .ok_or_else(|| denied("has no valid signature"))?;
        let expected = self.signature(table_id, &recipient, path, expires_at);
        if signature.len() != expected.len() || !bool::from(expected.ct_eq(&signature)) {
            return Err(denied("signature does not match"));
        }
        if expires_at <= now {
            return Err(denied("has expired; query the table again for fresh URLs"));
        }
        Ok(recipient)
    }

    fn signature(
        &self,
        table_id: &str,
        recipient_id: &str,
        path: &str,
        expires_at: i64,
    ) -> [u8; 32] {
        self.secret.sign(
            DOMAIN,
            &[
                table_id.as_bytes(),
                recipient_id.as_bytes(),
                path.as_bytes(),
                &expires_at.to_be_bytes(),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> FileUrlSigner {
        FileUrlSigner::new(ServerSecret::for_tests(), "http://127.0.0.1:9/")
    }

    #[test]
    fn signed_urls_verify_until_they_expire() {
        let s = signer();
        let signed = s.sign("t1", "r1", "region=eu/part 1.parquet", 61_000);
        assert!(
            signed
                .url
                .starts_with("http://127.0.0.1:9/files/t1/region=eu/part%201.parquet?")
        );
        assert_eq!(signed.expires_at, 61_000);
        let query = signed.url.split_once('?').unwrap().1.to_string();
        let check =
            |table: &str, path: &str, query: &str, now: i64| s.verify(table, path, query, now);
        assert_eq!(
            check("t1", "region=eu/part 1.parquet", &query, 2_000).unwrap(),
            "r1"
        );
        assert!(
            check("t1", "region=eu/part 1.parquet", &query, 61_000).is_err(),
            "expired"
        );
        assert!(
            check("t2", "region=eu/part 1.parquet", &query, 2_000).is_err(),
            "other table"
        );
        assert!(
            check("t1", "region=us/part 1.parquet", &query, 2_000).is_err(),
            "other file"
        );
        for (from, to) in [
            ("Recipient=r1", "Recipient=r2"),
            ("Expires=61000", "Expires=99999999"),
        ] {
            let forged = query.replace(from, to);
            assert!(
                check("t1", "region=eu/part 1.parquet", &forged, 2_000).is_err(),
                "{forged}"
            );
        }
        let unsigned = query.split("&X-Amz-Signature").next().unwrap();
        assert!(check("t1", "region=eu/part 1.parquet", unsigned, 2_000).is_err());
    }
}
