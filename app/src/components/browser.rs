//! Small browser services the grid needs that web-sys does not expose with the features we build: the text
//! of a clipboard event, putting text on it, and downloading the answer of a POST as a file. Only the
//! hydrated page calls these (from event handlers); on the server they do nothing.

/// The `text/plain` content of a `paste` event.
pub fn pasted_text(event: &leptos::ev::ClipboardEvent) -> String {
    #[cfg(feature = "hydrate")]
    {
        js::pasted(event.as_ref())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = event;
        String::new()
    }
}

/// Puts `text` on the clipboard of a `copy` event (the caller prevents the default).
pub fn set_copied_text(event: &leptos::ev::ClipboardEvent, text: &str) {
    #[cfg(feature = "hydrate")]
    js::copied(event.as_ref(), text);
    #[cfg(not(feature = "hydrate"))]
    let _ = (event, text);
}

/// Focuses the first element matching one of `selectors` that exists (after a list was re-rendered).
pub fn focus_first(selectors: &[String]) {
    use leptos::prelude::document;
    use leptos::wasm_bindgen::JsCast;
    for selector in selectors {
        if let Some(element) = document()
            .query_selector(selector)
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok())
        {
            let _ = element.focus();
            return;
        }
    }
}

/// Call before a change that draws a list again: afterwards the focus goes back to the same control (same
/// `data-testid`) inside the element with the same `data-key` (its first alternative in `fallbacks` when that
/// control is now disabled). Keyboard users keep their place.
pub fn keep_focus(fallbacks: &[(&str, &str)]) {
    use leptos::prelude::{document, request_animation_frame};
    let Some(active) = document().active_element() else { return };
    let (Some(id), Some(key)) = (
        active.get_attribute("data-testid"),
        active.closest("[data-key]").ok().flatten().and_then(|e| e.get_attribute("data-key")),
    ) else {
        return;
    };
    let selector = |id: &str| format!(r#"[data-key="{key}"] [data-testid="{id}"]:not([disabled])"#);
    let mut selectors = vec![selector(&id)];
    selectors.extend(fallbacks.iter().filter(|(from, _)| *from == id).map(|(_, to)| selector(to)));
    request_animation_frame(move || focus_first(&selectors));
}

/// POSTs `body` (JSON) to `url` with the session cookies and saves the answer as `filename`; an error answer
/// becomes its problem `detail`.
pub async fn download(url: &str, body: &str, filename: &str) -> Result<(), String> {
    #[cfg(feature = "hydrate")]
    {
        js::download(url, body, filename)
            .await
            .map(|_| ())
            .map_err(|e| e.as_string().unwrap_or_else(|| "the download failed".into()))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (url, body, filename);
        Err("downloads need JavaScript".into())
    }
}

#[cfg(feature = "hydrate")]
mod js {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(inline_js = r#"
export function tesseraPasted(event) {
  return (event.clipboardData && event.clipboardData.getData('text/plain')) || '';
}
export function tesseraCopied(event, text) {
  if (event.clipboardData) event.clipboardData.setData('text/plain', text);
}
export async function tesseraDownload(url, body, filename) {
  const answer = await fetch(url, {
    method: 'POST', credentials: 'same-origin', body,
    headers: { 'content-type': 'application/json' },
  });
  if (!answer.ok) {
    let message = answer.status + ' ' + answer.statusText;
    try { const problem = await answer.json(); message = problem.detail || problem.title || message; } catch (_) {}
    throw message;
  }
  const link = document.createElement('a');
  link.href = URL.createObjectURL(await answer.blob());
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
}
"#)]
    extern "C" {
        #[wasm_bindgen(js_name = tesseraPasted)]
        pub fn pasted(event: &JsValue) -> String;
        #[wasm_bindgen(js_name = tesseraCopied)]
        pub fn copied(event: &JsValue, text: &str);
        #[wasm_bindgen(js_name = tesseraDownload, catch)]
        pub async fn download(url: &str, body: &str, filename: &str) -> Result<JsValue, JsValue>;
    }
}
