//! Same-origin fetches of the bundled model, its manifest and the gallery.

use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

async fn response(url: &str) -> Result<Response, String> {
    let window = web_sys::window().ok_or("no window")?;
    let resp = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|_| format!("{url} could not be fetched (offline, or the site is incomplete)"))?;
    let resp: Response = resp.unchecked_into();
    if !resp.ok() {
        return Err(format!("{url} answered HTTP {}", resp.status()));
    }
    Ok(resp)
}

pub async fn text(url: &str) -> Result<String, String> {
    let resp = response(url).await?;
    let t = JsFuture::from(resp.text().map_err(|_| "no body")?).await.map_err(|_| format!("{url}: body could not be read"))?;
    t.as_string().ok_or_else(|| format!("{url}: body is not text"))
}

pub async fn bytes(url: &str) -> Result<Uint8Array, String> {
    let resp = response(url).await?;
    let b = JsFuture::from(resp.array_buffer().map_err(|_| "no body")?).await.map_err(|_| format!("{url}: body could not be read"))?;
    Ok(Uint8Array::new(&b.unchecked_into::<ArrayBuffer>()))
}

pub async fn blob(url: &str) -> Result<web_sys::Blob, String> {
    let resp = response(url).await?;
    let b = JsFuture::from(resp.blob().map_err(|_| "no body")?).await.map_err(|_| format!("{url}: body could not be read"))?;
    Ok(b.unchecked_into())
}
