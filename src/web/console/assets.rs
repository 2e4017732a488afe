//! The console's style sheet and script, compiled into the binary and served under names that
//! carry a digest of their content, so that browsers may keep them for a year and still never
//! run an old script after an upgrade.

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest, Sha256};

pub struct Asset {
    stem: &'static str,
    extension: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
    digest: OnceLock<String>,
}

impl Asset {
    const fn new(
        stem: &'static str,
        extension: &'static str,
        content_type: &'static str,
        bytes: &'static [u8],
    ) -> Self {
        Asset {
            stem,
            extension,
            content_type,
            bytes,
            digest: OnceLock::new(),
        }
    }

    fn digest(&self) -> &str {
        self.digest
            .get_or_init(|| hex::encode(&Sha256::digest(self.bytes)[..6]))
    }

    fn file_name(&self) -> String {
        format!("{}.{}.{}", self.stem, self.digest(), self.extension)
    }

    /// Where pages link it.
    pub fn path(&self) -> String {
        format!("{}/assets/{}", super::PREFIX, self.file_name())
    }
}

pub static STYLE: Asset = Asset::new(
    "console",
    "css",
    "text/css; charset=utf-8",
    include_bytes!("assets/console.css"),
);
pub static SCRIPT: Asset = Asset::new(
    "console",
    "js",
    "text/javascript; charset=utf-8",
    include_bytes!("assets/console.js"),
);

/// `GET /console/assets/{name}`: an asset by its digest-bearing name, cached for good.
pub async fn serve(req: HttpRequest, name: web::Path<String>) -> HttpResponse {
    let Some(asset) = [&STYLE, &SCRIPT]
        .into_iter()
        .find(|a| a.file_name() == *name)
    else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("no such console asset");
    };
    let etag = format!("\"{}\"", asset.digest());
    let cached = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let mut response = if cached {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .content_type(asset.content_type);
    if cached {
        response.finish()
    } else {
        response.body(asset.bytes)
    }
}
