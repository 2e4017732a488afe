//! `GET`/`HEAD /files/{table_id}/{path}`: downloads of local table files through signed URLs,
//! from where the recipient the URL was issued to may call.
//! Range requests answer 206 with exact lengths (actix-files), which readers rely on.

use actix_files::NamedFile;
use actix_web::{HttpRequest, HttpResponse, web};
use url::Url;

use super::AppState;
use super::recording::trail;
use super::request::{blocking, client_ip};
use crate::audit::Actor;
use crate::auth;
use crate::clock::now_ms;
use crate::delta::decode_log_path;
use crate::storage;
use crate::{Error, Result};

pub async fn download(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse> {
    // The raw path, not actix's decoded one: the signature covers the exact decoded file name.
    let tail = req.uri().path().strip_prefix("/files/").unwrap_or_default();
    let (table_id, encoded) = tail
        .split_once('/')
        .ok_or_else(|| Error::not_found("no such file"))?;
    let path = decode_log_path(encoded);
    let recipient_id = state
        .signer
        .verify(table_id, &path, req.query_string(), now_ms())?;
    let client = client_ip(&req, &state.config.trusted_proxies);
    let table_id = table_id.to_string();
    let trail = trail(&req);
    let file = blocking(move || {
        let (table, recipient) = state
            .catalog
            .read(|c| Ok((c.table_by_id(&table_id)?, c.recipient_by_id(&recipient_id)?)))?;
        let recipient = recipient.ok_or_else(|| {
            Error::permission_denied("the recipient this file URL was issued to no longer exists")
        })?;
        trail.update(|d| {
            d.actor = Some(Actor::recipient(&recipient.name, None));
            if let Some(table) = &table {
                d.schema = Some(table.schema.clone());
                d.table = Some(table.name.clone());
            }
            d.params = Some(serde_json::json!({"file": path}));
        });
        auth::check_ip(&recipient.name, recipient.ip_access_list.as_deref(), client)?;
        let table = table
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
