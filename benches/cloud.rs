//! `cargo bench --bench cloud`: `POST /query` on a 100,000-file table (1,000 commits and a
//! checkpoint) located on an S3-compatible server (s3s-fs on loopback, the tests' one), against
//! the very same files registered as a local table, queries interleaved. A counting proxy in
//! front of s3s-fs counts the requests the server makes: presigning must cost none, so a warm
//! query makes as many requests for 100,000 files as for 10. Prints figures; asserts only
//! counts.

mod common;
#[path = "../tests/common/mod.rs"]
mod harness;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Server, prepare_catalog, synthetic_table};
use harness::{S3_ACCESS_KEY, S3_SECRET_KEY};

/// A TCP proxy to `upstream` counting the HTTP requests sent through it (request lines end
/// in ` HTTP/1.1\r\n`; a line cut between two reads is still found).
fn counting_proxy(upstream: u16) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let server = TcpStream::connect(("127.0.0.1", upstream)).unwrap();
            let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (mut s_in, mut c_out) = (server, client);
            let counter = counter.clone();
            std::thread::spawn(move || {
                const MARK: &[u8] = b" HTTP/1.1\r\n";
                let (mut buf, mut tail) = ([0u8; 64 * 1024], Vec::new());
                while let Ok(n) = c_in.read(&mut buf) {
                    if n == 0 || s_out.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    tail.extend_from_slice(&buf[..n]);
                    let found = tail.windows(MARK.len()).filter(|w| *w == MARK).count();
                    counter.fetch_add(found, Ordering::Relaxed);
                    tail = tail[tail.len().saturating_sub(MARK.len() - 1)..].to_vec();
                }
                let _ = s_out.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s_in, &mut c_out);
                let _ = c_out.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    (port, count)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let (commits, per_commit) = (1000, 100);
    let files = commits * per_commit;
    let dir = tempfile::tempdir().unwrap();
    let s3 = harness::s3s_fs(&dir.path().join("s3"));
    let table = s3.root.join("lake/t");
    let started = Instant::now();
    drop(synthetic_table(&table, commits, per_commit, true));
    eprintln!(
        "wrote {files} files in {commits} commits + checkpoint in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let (proxy, requests) = counting_proxy(s3.port);
    let data = dir.path().join("data");
    let (_, token) = prepare_catalog(
        &data,
        &format!(
            "CREATE STORAGE CREDENTIAL lake TYPE S3 WITH (access_key_id '{S3_ACCESS_KEY}', secret_access_key '{S3_SECRET_KEY}', endpoint 'http://127.0.0.1:{proxy}');
             CREATE TABLE b.on_s3 USING DELTA LOCATION 's3://lake/t' WITH CREDENTIAL lake;
             CREATE TABLE b.local USING DELTA LOCATION '{}';
             CREATE SHARE s; ALTER SHARE s ADD TABLE b.on_s3; ALTER SHARE s ADD TABLE b.local;
             CREATE RECIPIENT r; GRANT SELECT ON SHARE s TO RECIPIENT r;",
            table.display()
        ),
    );

    let server = Server::start(&data, &[]);
    let http = reqwest::blocking::Client::new();
    let query = |name: &str| {
        let started = Instant::now();
        let mut response = http
            .post(format!(
                "{}/delta-sharing/shares/s/schemas/b/tables/{name}/query",
                server.base
            ))
            .bearer_auth(&token)
            .json(&serde_json::json!({}))
            .send()
            .unwrap();
        assert_eq!(response.status(), 200);
        let mut text = Vec::new();
        response.read_to_end(&mut text).unwrap();
        let lines = text.iter().filter(|b| **b == b'\n').count() - 2;
        assert_eq!(lines, files);
        (started.elapsed(), text)
    };
    let (local_cold, _) = query("local");
    let before = requests.load(Ordering::Relaxed);
    let (s3_cold, body) = query("on_s3");
    let cold_requests = requests.load(Ordering::Relaxed) - before;
    let first_url = body
        .split(|b| *b == b'\n')
        .nth(2)
        .map(|l| serde_json::from_slice::<serde_json::Value>(l).unwrap()["file"]["url"].clone())
        .unwrap();
    assert!(
        first_url.as_str().unwrap().contains("X-Amz-Signature="),
        "{first_url}"
    );
    let (mut local, mut on_s3, mut warm_requests) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..7 {
        local.push(query("local").0);
        let before = requests.load(Ordering::Relaxed);
        on_s3.push(query("on_s3").0);
        warm_requests.push(requests.load(Ordering::Relaxed) - before);
    }
    let (local, on_s3) = (median(local), median(on_s3));
    println!(
        "100k files: local query cold {} warm {} | S3 (s3s-fs) query cold {} warm {} = {:.2}x local | \
         requests to the store: cold {cold_requests}, warm {:?} per query for {files} presigned URLs | server peak RSS {:.1} MiB",
        ms(local_cold),
        ms(local),
        ms(s3_cold),
        ms(on_s3),
        on_s3.as_secs_f64() / local.as_secs_f64(),
        warm_requests,
        server.peak_rss_mib()
    );
    assert!(
        warm_requests.iter().all(|n| *n < 10),
        "a warm query made requests per file: {warm_requests:?}"
    );
}
