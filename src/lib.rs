//! fireshare: a self-hosted Delta Sharing server for regulated data.
//!
//! Modules depend downward only: `delta` and `storage` know nothing of HTTP or the catalog;
//! `catalog` knows nothing of HTTP; `fire` reads FIRE schemas and derives quality rules;
//! `audit` keeps the ledger of every request; `sharing` and
//! `admin` sit on top of them; `server` wires
//! everything into one actix-web application; `main.rs` only parses the command line.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod delta;
pub mod demo;
pub mod error;
pub mod fire;
pub mod http;
pub mod secret;
pub mod server;
pub mod sharing;
pub mod signing_key;
pub mod state;
pub mod storage;
pub mod web;

pub use error::{Error, ErrorCode, Result};
