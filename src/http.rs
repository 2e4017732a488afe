//! HTTP helpers shared by the sharing protocol and the admin API.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::{Error, Result};

/// A resource at `path` whose other methods than `allow` get 405 with an `Allow` header.
pub fn endpoint(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move |req: HttpRequest| async move {
        let error = Error::unsupported(format!(
            "{} is not allowed on {}: use {allow}",
            req.method(),
            req.path()
        ));
        HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, allow))
            .json(error.body())
    }))
}

/// Runs blocking work (catalog, Delta log, file system) on the blocking pool, off the async
/// workers.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    web::block(work)
        .await
        .map_err(|e| Error::internal(format!("worker failed: {e}")))?
}
