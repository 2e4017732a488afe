//! What every handler reads of a request (its credentials and the caller's address), and
//! the hand-off of blocking work.

use actix_web::http::header;
use actix_web::{HttpRequest, web};

use std::net::IpAddr;

use crate::auth::ip::IpNet;
use crate::{Error, Result};

/// The `Authorization` header, if it is text.
pub fn authorization(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
}

/// The caller's address: the socket's peer, or — when that peer is one of the `trusted`
/// proxies — the nearest address in `X-Forwarded-For` that is not a trusted proxy.
pub fn client_ip(req: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    // Proxies append: read from the right, past our own proxies.
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !is_trusted(*ip))
            .unwrap_or(peer),
    )
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

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let peer = "10.0.0.5:4000".parse().unwrap();
        let req = |xff: &str| {
            TestRequest::default()
                .peer_addr(peer)
                .insert_header(("X-Forwarded-For", xff))
                .to_http_request()
        };
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let proxies = [IpNet::parse("10.0.0.0/8").unwrap()];
        assert_eq!(
            client_ip(&req("192.0.2.9"), &[]),
            Some(ip("10.0.0.5")),
            "untrusted peer"
        );
        assert_eq!(
            client_ip(&req("192.0.2.9"), &proxies),
            Some(ip("192.0.2.9"))
        );
        assert_eq!(
            client_ip(&req("1.1.1.1, 192.0.2.9, 10.0.0.7"), &proxies),
            Some(ip("192.0.2.9")),
            "the client's own claims left of it do not count"
        );
        assert_eq!(client_ip(&req("junk"), &proxies), Some(ip("10.0.0.5")));
    }
}
