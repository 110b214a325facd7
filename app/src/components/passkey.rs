//! The browser's WebAuthn API, reached from Rust: the options the server sends are WebAuthn JSON, which
//! `PublicKeyCredential.parse…OptionsFromJSON` turns into the API's objects, and the credential goes back
//! with its own `toJSON()` — a few lines of JavaScript, served from `/pkg` like the rest of the app.

/// What a person is told when the browser's ceremony fails (`error` is the DOMException's name).
pub fn failure(t: &crate::i18n::Strings, error: &str) -> String {
    match error {
        "NotAllowedError" | "AbortError" => t.passkey_cancelled.to_owned(),
        "InvalidStateError" => t.passkey_exists.to_owned(),
        other => crate::i18n::fill(t.passkey_failed, &[other]),
    }
}

/// Can this browser run passkey ceremonies (WebAuthn with the JSON helpers)?
pub fn supported() -> bool {
    #[cfg(feature = "hydrate")]
    {
        js::supported()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        false
    }
}

/// Registers a credential with creation options (JSON text); answers the credential as JSON text.
pub async fn create(options: String) -> Result<String, String> {
    #[cfg(feature = "hydrate")]
    {
        js::create(&options).await.map(|v| v.as_string().unwrap_or_default()).map_err(message)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = options;
        Err("passkeys need JavaScript".into())
    }
}

/// Asks for an assertion with request options (JSON text); answers the credential as JSON text.
pub async fn get(options: String) -> Result<String, String> {
    #[cfg(feature = "hydrate")]
    {
        js::get(&options).await.map(|v| v.as_string().unwrap_or_default()).map_err(message)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = options;
        Err("passkeys need JavaScript".into())
    }
}

#[cfg(feature = "hydrate")]
fn message(error: wasm_bindgen::JsValue) -> String {
    js_sys::Reflect::get(&error, &"name".into())
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_else(|| "Error".into())
}

#[cfg(feature = "hydrate")]
mod js {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(inline_js = r#"
export function tesseraPasskeysSupported() {
  return typeof window.PublicKeyCredential === 'function'
    && typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function';
}
export async function tesseraPasskeyCreate(options) {
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(JSON.parse(options).publicKey);
  const credential = await navigator.credentials.create({ publicKey });
  return JSON.stringify(credential.toJSON());
}
export async function tesseraPasskeyGet(options) {
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(JSON.parse(options).publicKey);
  const credential = await navigator.credentials.get({ publicKey });
  return JSON.stringify(credential.toJSON());
}
"#)]
    extern "C" {
        #[wasm_bindgen(js_name = tesseraPasskeysSupported)]
        pub fn supported() -> bool;
        #[wasm_bindgen(js_name = tesseraPasskeyCreate, catch)]
        pub async fn create(options: &str) -> Result<JsValue, JsValue>;
        #[wasm_bindgen(js_name = tesseraPasskeyGet, catch)]
        pub async fn get(options: &str) -> Result<JsValue, JsValue>;
    }
}
