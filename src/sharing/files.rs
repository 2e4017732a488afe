//! `GET`/`HEAD /files/{table_id}/{path}`: downloads of local table files through signed URLs.
//! Range requests answer 206 with exact lengths (actix-files), which readers rely on.

use actix_files::NamedFile;
use actix_web::{HttpRequest, HttpResponse, web};
use url::Url;

use crate::catalog;
use crate::clock::now_ms;
use crate::delta::decode_log_path;
use crate::state::AppState;
use crate::storage::{self, FileUrlSigner};
use crate::{Error, Result};

pub async fn download(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse> {
    // The raw path, not actix's decoded one: the signature covers the exact decoded file name.
    let tail = req.uri().path().strip_prefix("/files/").unwrap_or_default();
    let (table_id, encoded) = tail
        .split_once('/')
        .ok_or_else(|| Error::not_found("no such file"))?;
    let path = decode_log_path(encoded);
    check_signature(&state.signer, table_id, &path, req.query_string())?;
    let table_id = table_id.to_string();
    let file = crate::http::blocking(move || {
        let table = state
            .catalog
            .read(|c| catalog::table_by_id(c, &table_id))?
            .ok_or_else(|| Error::not_found("the table of this file is no longer registered"))?;
        let root = Url::parse(&table.location).map_err(|e| Error::internal(e.to_string()))?;
        let file = storage::resolve_in_table(&storage::local_root(&root)?, &path)?;
        NamedFile::open(file).map_err(|_| Error::not_found("the file does not exist"))
    })
    .await?
    .set_content_type(actix_web::mime::APPLICATION_OCTET_STREAM)
    .disable_content_disposition();
    Ok(file.into_response(&req))
}

fn check_signature(signer: &FileUrlSigner, table_id: &str, path: &str, query: &str) -> Result<()> {
    let (mut expires, mut signature) = (None, None);
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "Expires" => expires = Some(value.into_owned()),
            "X-Amz-Signature" => signature = Some(value.into_owned()),
            _ => {}
        }
    }
    signer.verify(
        table_id,
        path,
        expires.as_deref(),
        signature.as_deref(),
        now_ms(),
    )
}
