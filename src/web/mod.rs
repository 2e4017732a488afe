//! The HTTP layer, the only module that knows actix: start-up, the server's state, routes,
//! the recording middleware, identity checks, and handlers that extract a request's parts,
//! call the plain functions of `sharing`, `admin` and `auth` on a blocking thread, and map
//! their result to a response.

mod activate;
mod admin;
mod config;
mod console;
mod error;
mod files;
mod health;
mod identity;
mod limits;
mod recording;
mod request;
mod routes;
mod scrape;
mod server;
mod sharing;
mod state;
mod tls;
mod token_endpoint;
mod well_known;

pub use config::{ACTIVATION_TTL, Limits, ServerConfig, Tls, parse_bytes};
pub use console::PREFIX as CONSOLE_PREFIX;
pub use identity::{Authenticator, Tokens};
pub use routes::{ADMIN_PREFIX, SHARING_PREFIX};
pub use server::{run, serve};
pub use state::AppState;
