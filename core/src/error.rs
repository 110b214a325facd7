//! The error type of core services. Adapters map it once: REST to RFC 9457 problem JSON, server functions to
//! their error type. Client mistakes keep their meaning; internal errors carry their cause for the log only.

use serde::Serialize;

use crate::store::StoreError;

/// Machine-readable error codes (`errors[].code` in problem JSON; see `spec/api.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Required,
    Type,
    Format,
    Range,
    Length,
    Enum,
    UnknownField,
    PrimaryKey,
    Unique,
    ForeignKey,
    Check,
    Hierarchy,
    VersionConflict,
    /// Anything else malformed (bad cursor, bad filter, bad JSON path, limits exceeded).
    Invalid,
}

/// One problem with one input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Where: `values.title`, `filter.and[1].field`, `operations[3].values.price`, `limit`, …
    pub field: String,
    pub code: ErrorCode,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: ErrorCode, message: impl Into<String>) -> Self {
        Self { field: field.into(), code, message: message.into() }
    }

    /// The same error, with its field nested under `prefix` (`values` + `title` → `values.title`).
    pub fn prefixed(mut self, prefix: &str) -> Self {
        self.field = if self.field.is_empty() {
            prefix.to_owned()
        } else if self.field.starts_with('[') {
            format!("{prefix}{}", self.field)
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }
}

/// One violated constraint (`violations[]` in problem JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    pub constraint: String,
    /// `PRIMARY KEY`, `UNIQUE`, `FOREIGN KEY` or `CHECK`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub columns: Vec<String>,
    pub values: Vec<serde_json::Value>,
    pub message: String,
}

/// Errors of core services.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 404: the named thing does not exist.
    #[error("{0}")]
    NotFound(String),
    /// 400: the request is malformed (unknown field, bad filter, bad cursor, limit exceeded).
    #[error("{}", summary(.0))]
    BadRequest(Vec<FieldError>),
    /// 422: well-formed but violates a rule (type, mandatory, validation rule, constraint, hierarchy).
    #[error("{}", summary(.0))]
    Validation(Vec<FieldError>),
    /// 422: a declared constraint is violated; `violations` says which and with what values.
    #[error("{}", summary(.errors))]
    Violation { errors: Vec<FieldError>, violations: Vec<Violation> },
    /// 409: a version conflict; `current` is the current state of the resource when there is one.
    #[error("{detail}")]
    Conflict { detail: String, current: Option<Box<serde_json::Value>> },
    /// 409: a schema object (table, column definition, constraint, role) with that name already exists.
    #[error("{0}")]
    Duplicate(String),
    /// 401: no valid credentials (missing, expired or revoked token, wrong username or password).
    #[error("{0}")]
    Unauthenticated(String),
    /// 403: authenticated, but the permission named in the message is missing (or the account is disabled).
    #[error("{0}")]
    Forbidden(String),
    /// 429: rate limited or account locked; retry after this long.
    #[error("{detail}")]
    TooManyRequests { detail: String, retry_after: std::time::Duration },
    /// 500: storage failed; the cause is logged, never sent to clients.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn summary(errors: &[FieldError]) -> String {
    match errors {
        [] => "invalid request".to_owned(),
        [one] => format!("{}: {}", one.field, one.message),
        [first, rest @ ..] => format!("{}: {} (and {} more)", first.field, first.message, rest.len()),
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Store(StoreError::Query(e))
    }
}

impl From<crate::cache::CacheError> for Error {
    fn from(e: crate::cache::CacheError) -> Self {
        Error::Store(StoreError::Internal(e.to_string()))
    }
}

impl Error {
    /// A 500 whose cause is logged, never sent (crypto failures, a broken blocking pool, a mail server).
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Error::Store(StoreError::Internal(cause.to_string()))
    }

    pub fn bad_request(field: impl Into<String>, code: ErrorCode, message: impl Into<String>) -> Self {
        Error::BadRequest(vec![FieldError::new(field, code, message)])
    }

    pub fn invalid(field: impl Into<String>, code: ErrorCode, message: impl Into<String>) -> Self {
        Error::Validation(vec![FieldError::new(field, code, message)])
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
