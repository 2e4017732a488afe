//! The protocol's logic called as plain functions, without a server: listing and grants,
//! version and timestamp resolution, query planning (predicates, limits), paging of queries
//! and change listings across commits.

use std::ops::ControlFlow;

use delta_kernel::arrow::datatypes::{DataType, Field, Schema};
use serde_json::{Value, json};

use super::Context;
use super::capabilities::Capabilities;
use super::changes::{self, ChangesParams};
use super::listing::{self, ListParams};
use super::query::{self, QueryBody};
use super::table::TablePath;
use crate::auth::Recipient;
use crate::catalog::{Catalog, NewRecipient};
use crate::delta::DeltaLog;
use crate::delta::writer::{AddFile, TableWriter};
use crate::secret::ServerSecret;
use crate::storage::{FileUrlSigner, Stores};
use crate::{ErrorCode, Result};

/// A catalog sharing one table (`s.fire.loans`, with history, 4 commits of 3 files each,
/// partitioned by `day`) with recipient `r`; recipient `other` has no grant.
struct Fixture {
    _dir: tempfile::TempDir,
    catalog: Catalog,
    delta: DeltaLog,
    stores: Stores,
    signer: FileUrlSigner,
    secret: ServerSecret,
    tables: super::TableMemo,
}

const COMMITS: u64 = 4;
const FILES_PER_COMMIT: usize = 3;

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("loans");
        let schema = Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("day", DataType::Utf8, false),
        ]);
        let config = [("delta.enableChangeDataFeed", "true")];
        let mut table =
            TableWriter::create(&root, "loans", "", &schema, &["day"], &config).unwrap();
        for c in 0..COMMITS {
            let adds: Vec<AddFile> = (0..FILES_PER_COMMIT)
                .map(|f| AddFile {
                    path: format!("day=d{c}/part-{c}-{f}.parquet"),
                    size: 1000,
                    partition_values: [("day".to_string(), format!("d{c}"))].into(),
                    stats: json!({"numRecords": 10, "minValues": {"id": f * 10},
                                  "maxValues": {"id": f * 10 + 9}, "nullCount": {"id": 0}}),
                })
                .collect();
            table.commit("WRITE", &adds, &[]).unwrap();
        }
        let catalog = Catalog::open_in_memory().unwrap();
        let location = url::Url::from_directory_path(&root).unwrap();
        catalog
            .write(|tx| {
                tx.create_table("fire", "loans", location.as_str(), None, None, false)?;
                tx.create_share("s", None, false)?;
                tx.create_share("t", None, false)?;
                let member = crate::catalog::NewMember {
                    history: Some(0),
                    ..Default::default()
                };
                tx.add_table_to_share("s", ("fire", "loans"), &member)?;
                for name in ["r", "other"] {
                    let new = NewRecipient {
                        name,
                        ..Default::default()
                    };
                    tx.create_recipient(&new, false)?;
                }
                tx.grant("s", "r")?;
                tx.grant("t", "r")
            })
            .unwrap();
        let secret = ServerSecret::for_tests();
        Fixture {
            _dir: dir,
            catalog,
            delta: DeltaLog::new(),
            stores: Stores::for_tests(),
            signer: FileUrlSigner::new(secret.clone(), "http://sharing.test"),
            secret,
            tables: Default::default(),
        }
    }

    fn cx(&self) -> Context<'_> {
        Context {
            catalog: &self.catalog,
            delta: &self.delta,
            stores: &self.stores,
            signer: &self.signer,
            secret: &self.secret,
            url_ttl: std::time::Duration::from_secs(3600),
            tables: &self.tables,
        }
    }

    fn who(&self, name: &str) -> Recipient {
        let found = self.catalog.read(|c| c.require_recipient(name)).unwrap();
        Recipient {
            id: found.id,
            name: found.name,
            token_id: "t1".into(),
            stamp: self.catalog.change_stamp(),
        }
    }

    /// The lines of a `POST …/query` for `r` with `body`.
    fn query(&self, body: Value) -> Result<Vec<Value>> {
        let body = QueryBody::parse(body.to_string().as_bytes())?;
        let prepared = query::prepare_query(&self.cx(), &self.who("r"), &path(), &caps(), &body)?;
        lines(|emit| query::write_query(&self.cx(), &prepared, emit))
    }

    /// The lines of a `GET …/changes` for `r` with `params`.
    fn changes(&self, params: ChangesParams) -> Result<Vec<Value>> {
        let prepared =
            changes::prepare_changes(&self.cx(), &self.who("r"), &path(), &caps(), &params)?;
        lines(|emit| changes::write_changes(&self.cx(), &prepared, emit))
    }
}

fn path() -> TablePath {
    TablePath {
        share: "s".into(),
        schema: "fire".into(),
        table: "loans".into(),
    }
}

fn caps() -> Capabilities {
    Capabilities::parse(None)
}

/// What `write` emits, as JSON lines.
fn lines(
    write: impl FnOnce(&mut dyn FnMut(Vec<u8>) -> ControlFlow<()>) -> Result<()>,
) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    write(&mut |chunk| {
        out.extend(chunk);
        ControlFlow::Continue(())
    })?;
    Ok(String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect())
}

fn files(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| l["file"]["url"].as_str().or(l["add"]["url"].as_str()))
        .map(|url| {
            url.split('?')
                .next()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string()
        })
        .collect()
}

fn end_stream(lines: &[Value]) -> &Value {
    &lines.last().unwrap()["endStreamAction"]
}

#[test]
fn recipients_see_only_what_is_granted_and_lists_page() {
    let fx = Fixture::new();
    let (r, other) = (fx.who("r"), fx.who("other"));
    let all = listing::list_shares(&fx.cx(), &r, &ListParams::default()).unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    let none = listing::list_shares(&fx.cx(), &other, &ListParams::default()).unwrap();
    assert_eq!(none["items"], json!([]));
    let e = listing::get_share(&fx.cx(), &other, "s").unwrap_err();
    assert_eq!(e.code(), ErrorCode::ResourceDoesNotExist);
    // One share a page: the token continues for the same recipient only.
    let page = |token: Option<String>| ListParams {
        max_results: Some("1".into()),
        page_token: token,
    };
    let first = listing::list_shares(&fx.cx(), &r, &page(None)).unwrap();
    assert_eq!(first["items"][0]["name"], "s");
    let token = first["nextPageToken"].as_str().unwrap().to_string();
    let second = listing::list_shares(&fx.cx(), &r, &page(Some(token.clone()))).unwrap();
    assert_eq!(second["items"][0]["name"], "t");
    assert!(second.get("nextPageToken").is_none(), "last page");
    assert!(listing::list_shares(&fx.cx(), &other, &page(Some(token))).is_err());
    let tables = listing::list_tables(&fx.cx(), &r, "s", None, &ListParams::default()).unwrap();
    assert_eq!(tables["items"][0]["name"], "loans");
    let e = listing::list_tables(&fx.cx(), &r, "s", Some("nope"), &ListParams::default());
    assert_eq!(e.unwrap_err().code(), ErrorCode::ResourceDoesNotExist);
}

#[test]
fn versions_and_timestamps_resolve_within_what_is_shared() {
    let fx = Fixture::new();
    let r = fx.who("r");
    assert_eq!(
        query::table_version(&fx.cx(), &r, &path(), None).unwrap(),
        COMMITS
    );
    // Version 0 holds no file; version 2, the files of its first two commits.
    let at_two = fx.query(json!({"version": 2})).unwrap();
    assert_eq!(files(&at_two).len(), 2 * FILES_PER_COMMIT);
    assert_eq!(at_two[1]["metaData"]["version"], 2, "versioned lines");
    assert_eq!(
        fx.query(json!({"version": -1})).unwrap_err().message(),
        "table version cannot be negative."
    );
    assert!(fx.query(json!({"version": 99})).is_err());
    assert!(fx.query(json!({"timestamp": "last week"})).is_err());
    // A time after every commit names no version yet, nor one before the table.
    let later = fx
        .query(json!({"timestamp": "2999-01-01T00:00:00Z"}))
        .unwrap_err();
    assert!(
        later.message().contains("after the latest version"),
        "{later}"
    );
    assert!(
        fx.query(json!({"timestamp": "2000-01-01T00:00:00Z"}))
            .is_err()
    );
    // Without history, versions are not shared; START VERSION bounds them.
    fx.catalog
        .write(|tx| tx.set_table_history("s", ("fire", "loans"), None))
        .unwrap();
    let e = fx.query(json!({"version": 1})).unwrap_err();
    assert!(
        e.message().contains("history sharing is not enabled"),
        "{e}"
    );
    fx.catalog
        .write(|tx| tx.set_table_history("s", ("fire", "loans"), Some(3)))
        .unwrap();
    assert!(
        fx.query(json!({"version": 2})).is_err(),
        "before START VERSION"
    );
    assert_eq!(files(&fx.query(json!({"version": 3})).unwrap()).len(), 9);
}

#[test]
fn queries_skip_files_predicates_exclude_and_stop_at_the_limit() {
    let fx = Fixture::new();
    let everything = fx.query(json!({})).unwrap();
    assert_eq!(
        files(&everything).len(),
        COMMITS as usize * FILES_PER_COMMIT
    );
    assert_eq!(everything[0]["protocol"]["minReaderVersion"], 1);
    let hint = json!({"op": "equal", "children": [
        {"op": "column", "name": "day", "valueType": "string"},
        {"op": "literal", "value": "d2", "valueType": "string"}]});
    let one_day = fx
        .query(json!({"jsonPredicateHints": hint.to_string()}))
        .unwrap();
    assert_eq!(
        files(&one_day),
        ["part-2-0.parquet", "part-2-1.parquet", "part-2-2.parquet"]
    );
    let ids = json!({"op": "greaterThan", "children": [
        {"op": "column", "name": "id", "valueType": "long"},
        {"op": "literal", "value": "15", "valueType": "long"}]});
    let by_stats = fx
        .query(json!({"jsonPredicateHints": ids.to_string()}))
        .unwrap();
    assert_eq!(
        files(&by_stats).len(),
        2 * COMMITS as usize,
        "files of ids 0..9 skipped"
    );
    // Each file holds 10 rows: 25 rows need three files.
    assert_eq!(files(&fx.query(json!({"limitHint": 25})).unwrap()).len(), 3);
}

#[test]
fn paged_queries_resume_where_the_last_page_ended_and_refresh() {
    let fx = Fixture::new();
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut body = json!({"maxFiles": 5});
        if let Some(token) = &token {
            body["pageToken"] = json!(token);
        }
        let page = fx.query(body).unwrap();
        seen.extend(files(&page));
        pages += 1;
        match end_stream(&page)["nextPageToken"].as_str() {
            Some(next) => token = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen,
        files(&fx.query(json!({})).unwrap()),
        "every file once, in order"
    );
    // A next page must repeat the first one's parameters.
    let first = fx.query(json!({"maxFiles": 5})).unwrap();
    let next = end_stream(&first)["nextPageToken"].as_str().unwrap();
    let e = fx
        .query(json!({"maxFiles": 5, "limitHint": 3, "pageToken": next}))
        .unwrap_err();
    assert!(e.message().starts_with("Query parameter mismatch"), "{e}");
    // A refresh token lists the same snapshot again.
    let refreshed = fx.query(json!({"includeRefreshToken": true})).unwrap();
    let refresh = end_stream(&refreshed)["refreshToken"].as_str().unwrap();
    let again = fx.query(json!({"refreshToken": refresh})).unwrap();
    assert_eq!(files(&again), files(&refreshed));
}

#[test]
fn change_listings_page_across_commits() {
    let fx = Fixture::new();
    let params = |token: Option<String>| ChangesParams {
        starting_version: Some("1".into()),
        max_files: Some("4".into()),
        page_token: token,
        ..ChangesParams::default()
    };
    let whole = fx
        .changes(ChangesParams {
            starting_version: Some("2".into()),
            ending_version: Some("3".into()),
            ..ChangesParams::default()
        })
        .unwrap();
    assert_eq!(files(&whole).len(), 2 * FILES_PER_COMMIT);
    assert!(
        whole
            .iter()
            .filter(|l| l.get("add").is_some())
            .all(|l| l["add"]["version"] == 2 || l["add"]["version"] == 3)
    );
    let (mut seen, mut token) = (Vec::new(), None);
    loop {
        let page = fx.changes(params(token.take())).unwrap();
        seen.extend(files(&page));
        match end_stream(&page)["nextPageToken"].as_str() {
            Some(next) => token = Some(next.to_string()),
            None => break,
        }
    }
    // Pages of 4 cut commits of 3 files: each page resumes inside a commit.
    let expected: Vec<String> = (0..COMMITS)
        .flat_map(|c| (0..FILES_PER_COMMIT).map(move |f| format!("part-{c}-{f}.parquet")))
        .collect();
    assert_eq!(seen, expected);
    let e = fx
        .changes(ChangesParams {
            starting_version: Some("9".into()),
            ..ChangesParams::default()
        })
        .unwrap_err();
    assert!(
        e.message().contains("Start version cannot be greater"),
        "{e}"
    );
}

/// The fixture's `metaData` action with the change feed turned off.
fn change_feed_off(log: &std::path::Path) -> Value {
    let created = std::fs::read_to_string(log.join(format!("{:020}.json", 0))).unwrap();
    let mut metadata = created
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|action| action.get("metaData").is_some())
        .unwrap();
    metadata["metaData"]["configuration"]["delta.enableChangeDataFeed"] = "false".into();
    metadata
}

#[test]
fn a_change_feed_turned_off_within_the_range_is_refused_before_the_first_byte() {
    let f = Fixture::new();
    // The version after the fixture's last turns the change feed off.
    let log = f._dir.path().join("loans/_delta_log");
    let metadata = change_feed_off(&log);
    let off = COMMITS + 1;
    std::fs::write(log.join(format!("{off:020}.json")), format!("{metadata}\n")).unwrap();
    // Unpaged, the receipt's walk finds it; paged, the first page reads the range first.
    for max_files in [None, Some("2")] {
        let params = ChangesParams {
            starting_version: Some("1".into()),
            max_files: max_files.map(str::to_string),
            ..Default::default()
        };
        let refused = changes::prepare_changes(&f.cx(), &f.who("r"), &path(), &caps(), &params)
            .and_then(|mut prepared| changes::delivered_files(&mut prepared));
        let error = refused.expect_err("refused");
        assert_eq!(error.code(), ErrorCode::InvalidParameterValue);
        assert!(
            error
                .message()
                .ends_with(&format!("not recorded for version [{off}]")),
            "{}",
            error.message()
        );
    }
}

#[test]
fn a_range_read_in_parts_answers_the_first_error_of_the_range() {
    let f = Fixture::new();
    // 200 versions, the change feed turned off at 90 and again at 140: read in two parts
    // (1-100, 101-200) or three (1-66, 67-133, 134-200), a later part fails first.
    let log = f._dir.path().join("loans/_delta_log");
    let metadata = change_feed_off(&log);
    for version in COMMITS + 1..=200 {
        let line = match version {
            90 | 140 => metadata.to_string(),
            _ => json!({"commitInfo": {"timestamp": 1_700_000_000_000u64 + version}}).to_string(),
        };
        std::fs::write(log.join(format!("{version:020}.json")), format!("{line}\n")).unwrap();
    }
    let params = ChangesParams {
        starting_version: Some("1".into()),
        ..Default::default()
    };
    for _ in 0..5 {
        let refused = changes::prepare_changes(&f.cx(), &f.who("r"), &path(), &caps(), &params)
            .and_then(|mut prepared| changes::delivered_files(&mut prepared));
        let message = refused.expect_err("refused").message().to_string();
        assert!(
            message.ends_with("not recorded for version [90]"),
            "{message}"
        );
    }
}
