//! How the page tells people what happened: toasts for outcomes, a banner when the server cannot be
//! reached (with a retry), and the one place that reacts to an error of any server function (an ended
//! session goes to sign-in and comes back).

use leptos::prelude::*;

use crate::errors::{AppError, ErrorKind};
use crate::i18n::tr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Success,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    id: u64,
    tone: Tone,
    text: String,
}

/// Shared feedback state (provided by `App`).
#[derive(Clone, Copy)]
pub struct Feedback {
    toasts: RwSignal<Vec<Toast>>,
    next_id: StoredValue<u64>,
    /// The server could not be reached.
    offline: RwSignal<bool>,
    /// Bumped by "Retry": data resources that read it load again.
    pub reload: RwSignal<u32>,
}

impl Feedback {
    pub fn new() -> Self {
        Self {
            toasts: RwSignal::new(Vec::new()),
            next_id: StoredValue::new(0),
            offline: RwSignal::new(false),
            reload: RwSignal::new(0),
        }
    }

    pub fn success(self, text: impl Into<String>) {
        self.push(Tone::Success, text.into());
    }

    pub fn push(self, tone: Tone, text: String) {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        self.toasts.update(|t| t.push(Toast { id, tone, text }));
        // Successes fade after a while; errors stay until dismissed (time to read them: WCAG 2.2.1).
        #[cfg(feature = "hydrate")]
        if tone == Tone::Success {
            set_timeout(move || self.dismiss(id), std::time::Duration::from_secs(5));
        }
    }

    fn dismiss(self, id: u64) {
        self.toasts.update(|t| t.retain(|toast| toast.id != id));
    }

    /// Reacts to a failed server call: sign-in for an ended session, the banner for a lost connection,
    /// a toast for anything that no form field shows.
    pub fn error(self, error: &AppError) {
        match error.kind {
            ErrorKind::Unauthenticated => reload(),
            ErrorKind::Network => self.offline.set(true),
            ErrorKind::Invalid if !error.fields.is_empty() => {}
            _ => self.push(Tone::Error, error.message.clone()),
        }
    }

    /// Like [`Feedback::error`], for actions with no form to show field errors at: those become a toast
    /// too, with the first field's message.
    pub fn failure(self, error: &AppError) {
        match error.fields.first() {
            Some(field) if error.kind == ErrorKind::Invalid => {
                self.push(Tone::Error, format!("{} ({})", error.message, field.message))
            }
            _ => self.error(error),
        }
    }

    /// A successful call: the connection is back.
    pub fn online(self) {
        self.offline.set(false);
    }
}

impl Default for Feedback {
    fn default() -> Self {
        Self::new()
    }
}

pub fn use_feedback() -> Feedback {
    use_context::<Feedback>().unwrap_or_default()
}

/// Loads a page in full (so every part of it follows a new session or language).
pub fn go_to(path: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = location().set_href(path);
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = path;
    }
}

/// Loads this page again: the server renews an expired access token with the refresh cookie, or sends
/// the user to sign-in (and back here afterwards) when the session has ended.
pub fn reload() {
    #[cfg(feature = "hydrate")]
    {
        let _ = location().reload();
    }
}

/// A path inside Tessera to return to after signing in (`/account?tab=x`), or `/` for anything else
/// (absolute URLs, `//host`, back-slashes, and any whitespace or control character, which browsers drop
/// while parsing: `/\t/host` is `//host`): no open redirects.
pub fn local_path(next: &str) -> String {
    let next = next.trim();
    let plain = next.chars().all(|c| c.is_ascii_graphic());
    if plain
        && next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.contains("://")
    {
        next.to_owned()
    } else {
        "/".to_owned()
    }
}

/// `/sign-in?next=<path>` (the path percent-encoded).
pub fn sign_in_path(next: &str) -> String {
    if next.is_empty() || next == "/" {
        return "/sign-in".to_owned();
    }
    format!("/sign-in?next={}", percent_encode(next, b"/"))
}

/// Percent-encodes everything but unreserved characters and `keep`, for a query value.
pub fn percent_encode(text: &str, keep: &[u8]) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            b if keep.contains(&b) => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Watches a server action: success → `on_ok` (and the connection is fine), failure → [`Feedback::error`].
pub fn on_result<T, F>(value: impl Fn() -> Option<Result<T, AppError>> + Send + Sync + 'static, on_ok: F)
where
    T: Clone + Send + Sync + 'static,
    F: Fn(T) + Send + Sync + 'static,
{
    let feedback = use_feedback();
    Effect::new(move |_| match value() {
        Some(Ok(v)) => {
            feedback.online();
            on_ok(v);
        }
        Some(Err(e)) => feedback.error(&e),
        None => {}
    });
}

/// The toasts and the connection banner (rendered once, by the shell).
#[component]
pub fn FeedbackView() -> impl IntoView {
    let feedback = use_feedback();
    view! {
        <Show when=move || feedback.offline.get()>
            <div class="banner warning" role="alert" data-testid="offline-banner">
                <span>{tr(|s| s.connection_lost)}</span>
                <button class="button small" type="button" on:click=move |_| {
                    feedback.offline.set(false);
                    feedback.reload.update(|n| *n += 1);
                }>{tr(|s| s.retry)}</button>
            </div>
        </Show>
        <div class="toasts" role="status" aria-live="polite">
            <For each=move || feedback.toasts.get() key=|t| t.id let:toast>
                <div class=move || if toast.tone == Tone::Error { "toast error" } else { "toast" } data-testid="toast">
                    <span>{toast.text.clone()}</span>
                    <button class="icon-button" type="button" aria-label=tr(|s| s.close)
                        on:click=move |_| feedback.dismiss(toast.id)>"×"</button>
                </div>
            </For>
        </div>
    }
}
