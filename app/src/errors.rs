//! The error every server function answers: what went wrong, in words a person can read, with the field
//! errors of RFC 9457 problem JSON so forms can show them next to their fields. It crosses the wire as JSON
//! (and, for forms posted without JavaScript, in the redirect URL, which `ServerAction` reads back).

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What kind of failure: decides how the page reacts (send to sign-in, show a retry banner, mark fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    /// No or expired session: the page sends the user to sign-in and back.
    Unauthenticated,
    Forbidden,
    NotFound,
    /// Bad input: `fields` says where.
    Invalid,
    Conflict,
    /// Rate limited or locked.
    Limited,
    /// The server failed; the cause is in its log.
    Server,
    /// The server could not be reached (the browser is offline, the server restarted).
    Network,
}

/// One field's problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldMessage {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError {
    pub kind: ErrorKind,
    pub message: String,
    pub fields: Vec<FieldMessage>,
}

impl AppError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), fields: Vec::new() }
    }

    /// The message for `field` (or a part of it: `scopes[2]`, `values.title`), if the server named it.
    pub fn field(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| {
                f.field == field
                    || f.field
                        .strip_prefix(field)
                        .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.'))
            })
            .map(|f| f.message.as_str())
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(cause) => AppError::new(ErrorKind::Network, cause),
            ServerFnErrorErr::Args(cause) | ServerFnErrorErr::MissingArg(cause) => {
                AppError::new(ErrorKind::Invalid, cause)
            }
            other => AppError::new(ErrorKind::Server, other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<tessera_core::Error> for AppError {
    fn from(error: tessera_core::Error) -> Self {
        use tessera_core::Error as E;
        let fields = |errors: &[tessera_core::FieldError]| {
            errors
                .iter()
                .map(|e| FieldMessage { field: e.field.clone(), message: e.message.clone() })
                .collect()
        };
        let kind = match &error {
            E::NotFound(_) => ErrorKind::NotFound,
            E::BadRequest(_) | E::Validation(_) | E::Violation { .. } => ErrorKind::Invalid,
            E::Conflict { .. } | E::Duplicate(_) => ErrorKind::Conflict,
            E::Unauthenticated(_) => ErrorKind::Unauthenticated,
            E::Forbidden(_) => ErrorKind::Forbidden,
            E::TooManyRequests { .. } => ErrorKind::Limited,
            E::Store(cause) => {
                tracing::error!(error = %cause, "server function failed");
                return AppError::new(ErrorKind::Server, "an internal error occurred; it has been logged");
            }
        };
        let field_list = match &error {
            E::BadRequest(errors) | E::Validation(errors) | E::Violation { errors, .. } => fields(errors),
            _ => Vec::new(),
        };
        let mut message = error.to_string();
        if let Some(first) = message.get(..1) {
            message = format!("{}{}", first.to_uppercase(), message.get(1..).unwrap_or(""));
        }
        AppError { kind, message, fields: field_list }
    }
}
