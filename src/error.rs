//! The one error type of the crate. A refusal a client can act on is a variant per protocol
//! error code, carrying the message the client is told (`{"errorCode", "message"}`); a failure
//! inside the server carries what failed and, as its source, why — for the log, never for the
//! client. The HTTP mapping lives in `web`.

use std::sync::Arc;

/// The cause of an internal failure (a database, I/O or JSON error), shared so that an error
/// can be handed to every waiter of a failed group commit.
pub type Source = Arc<dyn std::error::Error + Send + Sync>;

/// Error codes of the Delta Sharing protocol (the reference server's five), plus the
/// outcomes the protocol leaves unnamed: authentication, permission and name conflicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    ResourceDoesNotExist,
    ResourceAlreadyExists,
    InvalidParameterValue,
    UnsupportedOperation,
    MalformedRequest,
    InternalError,
    Unauthenticated,
    PermissionDenied,
    /// Something the server depends on (the audit ledger) cannot be used right now.
    Unavailable,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ResourceDoesNotExist => "RESOURCE_DOES_NOT_EXIST",
            ErrorCode::ResourceAlreadyExists => "RESOURCE_ALREADY_EXISTS",
            ErrorCode::InvalidParameterValue => "INVALID_PARAMETER_VALUE",
            ErrorCode::UnsupportedOperation => "UNSUPPORTED_OPERATION",
            ErrorCode::MalformedRequest => "MALFORMED_REQUEST",
            ErrorCode::InternalError => "INTERNAL_ERROR",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::PermissionDenied => "PERMISSION_DENIED",
            ErrorCode::Unavailable => "TEMPORARILY_UNAVAILABLE",
        }
    }

    /// HTTP status. Everything a retry cannot fix is a 4xx: clients retry 5xx for minutes.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::ResourceDoesNotExist => 404,
            ErrorCode::ResourceAlreadyExists => 409,
            ErrorCode::InvalidParameterValue
            | ErrorCode::UnsupportedOperation
            | ErrorCode::MalformedRequest => 400,
            ErrorCode::InternalError => 500,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::PermissionDenied => 403,
            ErrorCode::Unavailable => 503,
        }
    }
}

/// `": cause"`, or nothing.
fn cause(source: &Option<Source>) -> String {
    source.as_ref().map_or(String::new(), |s| format!(": {s}"))
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    #[error("RESOURCE_DOES_NOT_EXIST: {0}")]
    NotFound(String),
    #[error("RESOURCE_ALREADY_EXISTS: {0}")]
    AlreadyExists(String),
    #[error("INVALID_PARAMETER_VALUE: {0}")]
    InvalidParameter(String),
    #[error("UNSUPPORTED_OPERATION: {0}")]
    Unsupported(String),
    #[error("MALFORMED_REQUEST: {0}")]
    Malformed(String),
    #[error("UNAUTHENTICATED: {0}")]
    Unauthenticated(String),
    #[error("PERMISSION_DENIED: {0}")]
    PermissionDenied(String),
    /// Something the server depends on (the audit ledger) cannot be used right now.
    #[error("TEMPORARILY_UNAVAILABLE: {message}{}", cause(.source))]
    Unavailable {
        message: String,
        #[source]
        source: Option<Source>,
    },
    /// The server failed: `message` says at what, `source` why.
    #[error("INTERNAL_ERROR: {message}{}", cause(.source))]
    Internal {
        message: String,
        #[source]
        source: Option<Source>,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn not_found(message: impl Into<String>) -> Self {
        Error::NotFound(message.into())
    }
    pub fn already_exists(message: impl Into<String>) -> Self {
        Error::AlreadyExists(message.into())
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidParameter(message.into())
    }
    pub fn unsupported(message: impl Into<String>) -> Self {
        Error::Unsupported(message.into())
    }
    pub fn malformed(message: impl Into<String>) -> Self {
        Error::Malformed(message.into())
    }
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Error::Unauthenticated(message.into())
    }
    pub fn permission_denied(message: impl Into<String>) -> Self {
        Error::PermissionDenied(message.into())
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Error::Internal {
            message: message.into(),
            source: None,
        }
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Error::Unavailable {
            message: message.into(),
            source: None,
        }
    }
    /// An internal failure at `message`, caused by `source`.
    pub fn caused(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Internal {
            message: message.into(),
            source: Some(Arc::new(source)),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Error::NotFound(_) => ErrorCode::ResourceDoesNotExist,
            Error::AlreadyExists(_) => ErrorCode::ResourceAlreadyExists,
            Error::InvalidParameter(_) => ErrorCode::InvalidParameterValue,
            Error::Unsupported(_) => ErrorCode::UnsupportedOperation,
            Error::Malformed(_) => ErrorCode::MalformedRequest,
            Error::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Error::PermissionDenied(_) => ErrorCode::PermissionDenied,
            Error::Unavailable { .. } => ErrorCode::Unavailable,
            Error::Internal { .. } => ErrorCode::InternalError,
        }
    }

    /// What the error says, without its code or cause.
    pub fn message(&self) -> &str {
        match self {
            Error::NotFound(m)
            | Error::AlreadyExists(m)
            | Error::InvalidParameter(m)
            | Error::Unsupported(m)
            | Error::Malformed(m)
            | Error::Unauthenticated(m)
            | Error::PermissionDenied(m)
            | Error::Unavailable { message: m, .. }
            | Error::Internal { message: m, .. } => m,
        }
    }

    /// The message and, for a failure of the server, its cause: what a person running a
    /// command is told.
    pub fn explained(&self) -> String {
        match self {
            Error::Unavailable { message, source } | Error::Internal { message, source } => {
                format!("{message}{}", cause(source))
            }
            other => other.message().to_string(),
        }
    }

    /// The same error with its message rewritten (context added), code and cause kept.
    pub fn map_message(mut self, f: impl FnOnce(&str) -> String) -> Self {
        let rewritten = f(self.message());
        match &mut self {
            Error::NotFound(m)
            | Error::AlreadyExists(m)
            | Error::InvalidParameter(m)
            | Error::Unsupported(m)
            | Error::Malformed(m)
            | Error::Unauthenticated(m)
            | Error::PermissionDenied(m)
            | Error::Unavailable { message: m, .. }
            | Error::Internal { message: m, .. } => *m = rewritten,
        }
        self
    }

    /// The JSON body sent to clients: an internal failure says only that it happened (its
    /// details, paths and database messages, stay in the server log).
    pub fn body(&self) -> serde_json::Value {
        let message = match self {
            Error::Internal { .. } => "internal server error; the details are in the server log",
            other => other.message(),
        };
        serde_json::json!({"errorCode": self.code().as_str(), "message": message})
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::caused("JSON error", e)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::caused("I/O error", e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_causes_reach_the_log_but_not_the_client() {
        let e = Error::from(std::io::Error::other("disk full at /srv/data"));
        assert_eq!(e.code(), ErrorCode::InternalError);
        assert_eq!(
            e.to_string(),
            "INTERNAL_ERROR: I/O error: disk full at /srv/data"
        );
        assert_eq!(e.explained(), "I/O error: disk full at /srv/data");
        assert!(std::error::Error::source(&e).is_some());
        assert!(!e.body().to_string().contains("/srv/data"));
        let refused = Error::not_found("no such share").map_message(|m| format!("share x: {m}"));
        assert_eq!(
            refused.body(),
            serde_json::json!({"errorCode": "RESOURCE_DOES_NOT_EXIST", "message": "share x: no such share"})
        );
    }
}
