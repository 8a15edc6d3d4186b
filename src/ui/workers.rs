//! Real Web Workers for the pool: starting one (or taking the one public/worker-boot.js started
//! before the page's code ran), routing its messages, and posting it the model and files as
//! `web::protocol::Request`s, their bytes beside them. Workers are named by the pool's keys. What to start, send
//! or stop is decided by `crate::pool`; `engine` calls these.

use crate::pool::Point;
use crate::web::protocol::{Request, BYTES, MODEL};
use js_sys::{Array, ArrayBuffer, Reflect, Uint8Array};
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, MessageEvent, Worker};

/// Where the worker's loader script is, relative to the page.
const WORKER_URL: &str = "./worker_loader.js";

/// A worker's message (`key`: which worker) and a worker that stopped on an error.
pub type OnMessage = fn(u32, JsValue);
pub type OnError = fn(u32);

#[derive(Default)]
struct Workers {
    running: HashMap<u32, Worker>,
    /// The worker public/worker-boot.js started, with the messages it sent before the page
    /// listened, until it takes the first key ([`start`]).
    boot: Option<(Worker, Vec<JsValue>)>,
    /// The boot worker's key and its early messages, until [`boot_messages`] takes them.
    replay: Option<(u32, Vec<JsValue>)>,
    /// public/worker-boot.js's fetch of the bundled model (`{manifest, model}`), until
    /// [`boot_model`] takes it.
    boot_model: Option<js_sys::Promise>,
}

thread_local! {
    static WORKERS: RefCell<Workers> = RefCell::new(Workers::default());
}

fn with<R>(f: impl FnOnce(&mut Workers) -> R) -> R {
    WORKERS.with(|w| f(&mut w.borrow_mut()))
}

fn get(key: u32) -> Option<Worker> {
    with(|w| w.running.get(&key).cloned())
}

/// `request` as the worker reads it; `beside`: the bytes it needs under their key
/// (`protocol::BYTES` or `protocol::MODEL`), set on the message as they are (the caller hands the
/// buffer over), never through serde.
pub fn message(request: &Request, beside: Option<(&str, &JsValue)>) -> Result<JsValue, String> {
    let msg = serde_wasm_bindgen::to_value(request).map_err(|e| format!("could not encode a message: {e}"))?;
    if let Some((key, buffer)) = beside {
        Reflect::set(&msg, &JsValue::from_str(key), buffer).map_err(|e| format!("{e:?}"))?;
    }
    Ok(msg)
}

/// The worker's URL. `?simd=baseline` (or `relaxed`) on the page's address is passed on to the
/// loader: in a site built with `--relaxed-simd` it picks the relaxed-SIMD bundle wherever the
/// browser supports it, unless `baseline` asks for the SIMD128 one (scripts/build/worker-variants.mjs).
fn worker_url() -> String {
    match page_param("simd").as_deref() {
        Some(v @ ("baseline" | "relaxed")) => format!("{WORKER_URL}?simd={v}"),
        _ => WORKER_URL.to_string(),
    }
}

/// The value of `name=` in the page's address (`?simd=…`, `?workers=…`).
fn page_param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    search.split(['?', '&']).find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=').map(str::to_string))
}

/// Starts worker `key` (the first takes the worker public/worker-boot.js started, if any).
pub fn start(key: u32, on_message: OnMessage, on_error: OnError) -> Result<(), String> {
    let worker = match with(|w| w.boot.take()) {
        Some((worker, messages)) => {
            with(|w| w.replay = Some((key, messages)));
            worker
        }
        None => Worker::new(&worker_url()).map_err(|e| format!("the classification worker could not start ({e:?})"))?,
    };
    listen(key, &worker, on_message, on_error);
    with(|w| w.running.insert(key, worker));
    Ok(())
}

/// Starts a worker outside the pool (the camera's live view finds cells in one of its own, which
/// never loads a model); its messages and errors are the caller's to route.
pub fn start_unpooled() -> Result<Worker, String> {
    Worker::new(&worker_url()).map_err(|e| format!("the camera's worker could not start ({e:?})"))
}

/// Stops worker `key`.
pub fn stop(key: u32) {
    if let Some(worker) = with(|w| w.running.remove(&key)) {
        worker.terminate();
    }
}

/// Routes worker `key`'s messages and errors.
fn listen(key: u32, worker: &Worker, on_message: OnMessage, on_error: OnError) {
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| on_message(key, ev.data()));
    worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    let onerror = Closure::<dyn FnMut(web_sys::Event)>::new(move |_ev: web_sys::Event| on_error(key));
    worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
    onerror.forget();
}

/// What the boot worker said before the page listened (its "alive", or a crash), with the key
/// it took; once.
pub fn boot_messages() -> Option<(u32, Vec<JsValue>)> {
    with(|w| w.replay.take())
}

/// Takes the worker public/worker-boot.js started before the page's code ran, with the messages
/// it sent since, for the pool's first key; one started for another address is stopped.
pub fn take_boot_worker() {
    let boot = (|| {
        let window = web_sys::window()?;
        let _ = Reflect::set(&window, &"__marrowscopeEngine".into(), &JsValue::TRUE);
        let boot = Reflect::get(&window, &"__marrowscopeBoot".into()).ok().filter(|b| b.is_object())?;
        let _ = Reflect::delete_property(&window, &"__marrowscopeBoot".into());
        let model = Reflect::get(&boot, &"model".into()).ok().and_then(|m| m.dyn_into::<js_sys::Promise>().ok());
        with(|w| w.boot_model = model);
        let worker: Worker = Reflect::get(&boot, &"worker".into()).ok()?.dyn_into().ok()?;
        if Reflect::get(&boot, &"url".into()).ok()?.as_string() != Some(worker_url()) {
            worker.terminate();
            return None;
        }
        let messages: Array = Reflect::get(&boot, &"messages".into()).ok()?.dyn_into().ok()?;
        Some((worker, messages.to_vec()))
    })();
    with(|w| w.boot = boot);
}

/// The bundled model as public/worker-boot.js fetched it (manifest text, ONNX bytes), which it
/// also handed to the boot worker; `None` where it did not start one, `Some(Err)` where its
/// fetch failed (the caller fetches the model itself). Once.
pub async fn boot_model() -> Option<Result<(String, Uint8Array), String>> {
    let promise = with(|w| w.boot_model.take())?;
    Some(
        async {
            let v = JsFuture::from(promise)
                .await
                .map_err(|e| e.as_string().or_else(|| Reflect::get(&e, &"message".into()).ok()?.as_string()).unwrap_or_default())?;
            let text = Reflect::get(&v, &"manifest".into()).ok().and_then(|t| t.as_string()).ok_or("no manifest text")?;
            let model: ArrayBuffer = Reflect::get(&v, &"model".into()).ok().and_then(|m| m.dyn_into().ok()).ok_or("no model bytes")?;
            Ok((text, Uint8Array::new(&model)))
        }
        .await,
    )
}

/// Sends worker `key` the model (manifest text + ONNX bytes, copied: the worker takes its copy).
pub fn post_model(key: u32, manifest: &str, bytes: &Uint8Array) -> Result<(), String> {
    crate::web::marks::mark("model-sent");
    let Some(worker) = get(key) else { return Ok(()) };
    let copy = bytes.slice(0, bytes.length());
    let buffer = copy.buffer();
    let msg = message(&Request::Load { manifest: manifest.to_string() }, Some((MODEL, &buffer)))?;
    worker.post_message_with_transfer(&msg, &Array::of1(&buffer)).map_err(|e| format!("could not send the model to the worker ({e:?})"))
}

/// Test hook: worker `key` runs out of memory on the next file it is given.
pub fn arm_crash(key: u32) {
    if let Some(worker) = get(key) {
        if let Ok(msg) = message(&Request::SelftestOomNext, None) {
            let _ = worker.post_message(&msg);
        }
    }
}

/// How the worker is to read a file it is sent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Read {
    /// A dropped file: the worker decides single cell or field from its content.
    Decide,
    /// An image known to be one cell (the Learn tab's expert-labelled crops): classified as one,
    /// whatever its content looks like.
    OneCell,
    /// A cell the person clicked on a field, at this point.
    At(Point),
}

/// Reads `image` and sends it to worker `key` as job `id`, to be read as `read` says; `failed`
/// runs when it could not be read or sent (or there is no such worker).
pub fn send(key: u32, id: u32, image: Blob, read: Read, failed: impl FnOnce() + 'static) {
    let worker = get(key);
    leptos::task::spawn_local(async move {
        let sent = match (worker, JsFuture::from(image.array_buffer()).await) {
            (Some(worker), Ok(buf)) => {
                let buf: ArrayBuffer = buf.unchecked_into();
                let request = match read {
                    Read::Decide => Request::Classify { id, one_cell: false },
                    Read::OneCell => Request::Classify { id, one_cell: true },
                    Read::At(p) => Request::CellAt { id, x: p.x, y: p.y, nucleus: p.nucleus },
                };
                message(&request, Some((BYTES, &buf))).is_ok_and(|msg| worker.post_message_with_transfer(&msg, &Array::of1(&buf)).is_ok())
            }
            _ => false,
        };
        if !sent {
            failed();
        }
    });
}

/// Where the chosen pool size is kept.
const WORKERS_KEY: &str = "marrowscope-workers";

/// The computer's logical cores, as the browser reports them.
pub fn cores() -> usize {
    web_sys::window().map(|w| w.navigator().hardware_concurrency() as usize).unwrap_or(0)
}

/// How many workers to run until the person chooses: `?workers=N` on the page's address, else
/// the person's earlier choice (localStorage), else one fewer than the computer's cores (the
/// pool clamps it).
pub fn default_count() -> usize {
    let from_url = page_param("workers").and_then(|v| v.parse::<usize>().ok());
    let stored = || {
        web_sys::window()
            .and_then(|w| w.local_storage().ok().flatten())
            .and_then(|s| s.get_item(WORKERS_KEY).ok().flatten())
            .and_then(|v| v.parse::<usize>().ok())
    };
    from_url.or_else(stored).unwrap_or_else(|| cores().max(2) - 1)
}

/// Keeps the person's choice of `n` workers for later visits.
pub fn remember_count(n: usize) {
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = s.set_item(WORKERS_KEY, &n.to_string());
    }
}
