//! The HTTP layer: the only module that knows actix.

mod error;
