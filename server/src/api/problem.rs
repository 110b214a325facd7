//! RFC 9457 problem details: the one error shape of the API, and the mapping from core errors.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tessera_core::{Error, FieldError};

/// A problem document (`application/problem+json`).
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    #[serde(serialize_with = "serialize_status")]
    pub status: StatusCode,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// 422 on a constraint violation: which constraints, columns and values.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<tessera_core::Violation>,
    /// 409 on a version conflict: the resource as it is now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<Box<serde_json::Value>>,
    /// 429: seconds until a retry may succeed, sent as `Retry-After` (0: none). Not in the body.
    #[serde(skip)]
    pub retry_after: u32,
}

fn serialize_status<S: serde::Serializer>(status: &StatusCode, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u16(status.as_u16())
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status,
            detail: detail.into(),
            errors: Vec::new(),
            violations: Vec::new(),
            current: None,
            retry_after: 0,
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    /// A 401 (with `WWW-Authenticate: Bearer` added by `into_response`).
    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    /// A 400 naming one field.
    pub fn bad_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(StatusCode::BAD_REQUEST, format!("{field}: {message}")).with_errors(vec![FieldError::new(
            field,
            tessera_core::ErrorCode::Invalid,
            message,
        )])
    }
}

impl From<Error> for Problem {
    fn from(error: Error) -> Self {
        let detail = error.to_string();
        match error {
            Error::NotFound(_) => Problem::new(StatusCode::NOT_FOUND, detail),
            Error::BadRequest(errors) => Problem::new(StatusCode::BAD_REQUEST, detail).with_errors(errors),
            Error::Validation(errors) => {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, detail).with_errors(errors)
            }
            Error::Violation { errors, violations } => {
                let mut problem = Problem::new(StatusCode::UNPROCESSABLE_ENTITY, detail).with_errors(errors);
                problem.violations = violations;
                problem
            }
            Error::Conflict { current, .. } => {
                let mut problem =
                    Problem::new(StatusCode::CONFLICT, detail).with_errors(vec![FieldError::new(
                        "version",
                        tessera_core::ErrorCode::VersionConflict,
                        "the resource changed since it was read",
                    )]);
                problem.current = current;
                problem
            }
            Error::Duplicate(_) => Problem::new(StatusCode::CONFLICT, detail),
            Error::Unauthenticated(_) => Problem::new(StatusCode::UNAUTHORIZED, detail),
            Error::Forbidden(_) => Problem::new(StatusCode::FORBIDDEN, detail),
            Error::TooManyRequests { retry_after, .. } => {
                let mut problem = Problem::new(StatusCode::TOO_MANY_REQUESTS, detail);
                problem.retry_after = u32::try_from(retry_after.as_secs().max(1)).unwrap_or(u32::MAX);
                problem
            }
            Error::Store(cause) => {
                // The cause goes to the log only; clients get a generic 500.
                tracing::error!(error = %cause, "storage error");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "an internal error occurred; it has been logged",
                )
            }
        }
    }
}

impl From<JsonRejection> for Problem {
    fn from(rejection: JsonRejection) -> Self {
        let status = match rejection.status() {
            StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
            other => other,
        };
        let detail = match &rejection {
            JsonRejection::MissingJsonContentType(_) => {
                "expected a request with Content-Type: application/json".into()
            }
            other => other.body_text(),
        };
        let mut problem = Problem::new(status, detail.clone());
        if status == StatusCode::BAD_REQUEST {
            problem.errors = vec![FieldError::new("body", tessera_core::ErrorCode::Invalid, detail)];
        }
        problem
    }
}

impl From<QueryRejection> for Problem {
    fn from(rejection: QueryRejection) -> Self {
        Problem::bad_field("query", rejection.body_text())
    }
}

impl From<PathRejection> for Problem {
    fn from(rejection: PathRejection) -> Self {
        Problem::bad_field("path", rejection.body_text())
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status;
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response =
            (status, [(header::CONTENT_TYPE, "application/problem+json")], body).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        }
        if self.retry_after > 0 {
            response.headers_mut().insert(header::RETRY_AFTER, self.retry_after.into());
        }
        response
    }
}
