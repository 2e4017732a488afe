//! The one error type of the crate, shaped after the Delta Sharing error body
//! `{"errorCode": "...", "message": "..."}`.

use std::fmt;

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
        }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ResourceDoesNotExist, message)
    }
    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ResourceAlreadyExists, message)
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidParameterValue, message)
    }
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::UnsupportedOperation, message)
    }
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::MalformedRequest, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InternalError, message)
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unavailable, message)
    }
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, message)
    }
    pub fn permission_denied(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::PermissionDenied, message)
    }

    /// The JSON body sent to clients.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({"errorCode": self.code.as_str(), "message": self.message})
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for Error {}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::internal(format!("database error: {e}"))
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::internal(format!("JSON error: {e}"))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::internal(format!("I/O error: {e}"))
    }
}

impl actix_web::ResponseError for Error {
    fn status_code(&self) -> actix_web::http::StatusCode {
        actix_web::http::StatusCode::from_u16(self.code.http_status())
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        let mut response = actix_web::HttpResponse::build(self.status_code());
        if self.code == ErrorCode::Unauthenticated {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        let body = if self.code == ErrorCode::InternalError {
            // Internal details (database messages, paths) stay in the server log.
            tracing::error!(error = %self.message, "internal error");
            Error::internal("internal server error; the details are in the server log").body()
        } else {
            self.body()
        };
        response
            .content_type("application/json; charset=utf-8")
            .body(body.to_string())
    }
}
