//! Errors as HTTP responses: the protocol's status and `{"errorCode", "message"}` body, with
//! the cause of an internal failure written to the log instead.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::{Error, ErrorCode};

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code().http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        match self.code() {
            ErrorCode::Unauthenticated => {
                response.insert_header(("WWW-Authenticate", "Bearer"));
            }
            ErrorCode::InternalError => tracing::error!(error = %self, "internal error"),
            _ => {}
        }
        response
            .content_type("application/json; charset=utf-8")
            .body(self.body().to_string())
    }
}
