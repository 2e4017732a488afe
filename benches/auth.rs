//! `cargo bench --bench auth`: what checking credentials costs. wrk (loopback, 10 s, 2
//! threads, 16 connections, three interleaved rounds) on `GET /delta-sharing/shares` of a
//! release `fireshare serve`, with a bearer token and with an OAuth access token, and of the
//! same server run by this binary in a process of its own with a credential check (the
//! state's `Authenticator` seam) that accepts anything as the recipient. Prints requests/s,
//! p99 latency and the overhead against no checks; asserts nothing about time.

mod common;

use common::Server;

use std::net::IpAddr;

use fireshare::auth::{AdminCaller, Recipient};
use fireshare::web::{AppState, Authenticator};

/// Every request is recipient `r`'s, unchecked.
struct NoChecks(Recipient);

impl Authenticator for NoChecks {
    fn recipient(
        &self,
        state: &AppState,
        _: Option<&str>,
        _: Option<IpAddr>,
    ) -> fireshare::Result<Recipient> {
        // As of now: what the request reads may be remembered under it.
        Ok(Recipient {
            stamp: state.catalog.change_stamp(),
            ..self.0.clone()
        })
    }
    fn admin(&self, _: &AppState, _: Option<&str>) -> fireshare::Result<AdminCaller> {
        Err(fireshare::Error::permission_denied("not in this bench"))
    }
}

/// Rounds of the three runs; run to run, this machine varies by about ±5%.
const ROUNDS: usize = 3;

fn main() {
    if common::serve_seam(|_, mut state| {
        let r = state.catalog.read(|c| c.require_recipient("r")).unwrap();
        state.authenticator = Box::new(NoChecks(Recipient {
            id: r.id,
            name: r.name,
            token_id: String::new(),
            stamp: state.catalog.change_stamp(),
        }));
        state
    }) || !std::env::args().any(|a| a == "--bench")
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (created, token) = common::prepare_catalog(
        &data,
        "CREATE SHARE s1; CREATE SHARE s2; CREATE RECIPIENT r; GRANT SELECT ON SHARE s1 TO RECIPIENT r;
         GRANT SELECT ON SHARE s2 TO RECIPIENT r; CREATE RECIPIENT o USING OAUTH;
         GRANT SELECT ON SHARE s1 TO RECIPIENT o; GRANT SELECT ON SHARE s2 TO RECIPIENT o;",
    );
    let oauth = &created[5].rows[0];
    let (client_id, client_secret) = (oauth[1].clone(), oauth[2].clone());

    // A server for each run: `seam` names the one without checks.
    let run = |seam: Option<&str>, label: &str, authorization: &dyn Fn(&Server) -> String| {
        let server = match seam {
            None => Server::start(&data, &[]),
            Some(seam) => common::start_seam(&data, seam),
        };
        let url = format!("{}/delta-sharing/shares", server.base);
        let (rps, p99) = common::wrk(&url, &authorization(&server), None, 16);
        println!("{label}: {rps:.0} req/s, p99 {p99}");
        rps
    };
    // Three rounds, the three runs interleaved, so that drift of the machine hits all alike.
    let (mut bearer, mut jwt, mut bypass) = (0.0, 0.0, 0.0);
    for _ in 0..ROUNDS {
        bypass += run(Some("no-checks"), "no checks", &|_| {
            "Bearer none".to_string()
        }) / ROUNDS as f64;
        bearer += run(None, "bearer token", &|_| format!("Bearer {token}")) / ROUNDS as f64;
        jwt += run(None, "OAuth access token", &|server| {
            let response: serde_json::Value = reqwest::blocking::Client::new()
                .post(format!("{}/oauth/token", server.base))
                .basic_auth(&client_id, Some(&client_secret))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials")
                .send()
                .unwrap()
                .json()
                .unwrap();
            format!("Bearer {}", response["access_token"].as_str().unwrap())
        }) / ROUNDS as f64;
    }
    println!(
        "means: no checks {bypass:.0} req/s, bearer {bearer:.0}, OAuth {jwt:.0}; auth overhead: bearer {:.1}%, OAuth {:.1}% (throughput lost against no checks)",
        (1.0 - bearer / bypass) * 100.0,
        (1.0 - jwt / bypass) * 100.0
    );
}
