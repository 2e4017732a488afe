//! fireshare: a self-hosted Delta Sharing server for regulated data.
//!
//! The modules, lowest first. Each uses only modules listed before it (`tests/structure.rs`
//! checks this on every `cargo test`):
//!
//! - `error`: the one error type, a variant per protocol error code.
//! - `clock`: wall-clock time in the units of the Delta log and the protocol.
//! - `metrics`: the Prometheus series every module counts into.
//! - `secret`: the server's HMAC key (file URLs, page tokens).
//! - `signing_key`: the server's Ed25519 keys (OAuth tokens, audit seals and receipts).
//! - `data_dir`: where the files of a data directory live.
//! - `catalog`: tables, shares, recipients, tokens and grants, behind `catalog::Tx`.
//! - `storage`: object stores, storage credentials, file URLs.
//! - `delta`: reading Delta logs.
//! - `auth`: recipients' and admins' credentials.
//! - `audit`: the ledger of every request and change.
//! - `fire`: FIRE schemas, quality rules and validation.
//! - `sharing`: the Delta Sharing protocol, callable without a server.
//! - `admin`: the admin SQL and its execution.
//! - `web`: the HTTP server, the only module that knows actix.
//! - `demo`: `fireshare demo`.
//! - `config_file`: the command line's settings file, under its flags and environment.
//!
//! `main.rs` is the command line on top of them all.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod clock;
pub mod config_file;
pub mod data_dir;
pub mod delta;
pub mod demo;
pub mod error;
pub mod fire;
pub mod metrics;
pub mod secret;
pub mod sharing;
pub mod signing_key;
pub mod storage;
pub mod web;

pub use error::{Error, ErrorCode, Result};
