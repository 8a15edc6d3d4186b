//! The page's side of the classification workers: a pool of them (by default one fewer than
//! the computer's cores, at most 8; a setting changes it), each with its own copy of the model.
//! Files are fed from one queue to whichever worker is free, one file per worker at a time; a
//! worker that dies is replaced and the file it held is marked failed.

use super::state::{AppState, CellState, FieldInfo, FieldRef, ModelState};
use crate::model::manifest::Manifest;
use crate::web::console;
use crate::web::protocol::{FieldCell, Reply, BLOBS};
use js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array};
use leptos::prelude::*;
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{File, MessageEvent, Worker};

/// Shown on files that arrive when no model can classify them.
const NO_MODEL: &str = "No model is loaded, so this image was not classified. Reload the page or load a valid model.";

/// Where the worker's loader script is, relative to the page.
const WORKER_URL: &str = "./worker_loader.js";

/// Cells added to the page per task when many files arrive at once: adding 500 rows in
/// one go blocked the page for about half a second; chunks keep every task short.
const PUBLISH_CHUNK: usize = 16;

/// The id of a request that is not a cell of the batch: the Learn tab's second opinion.
const OPINION_ID: u32 = u32::MAX - 1;

/// The model's answer on an image outside the batch (the Learn tab's second opinion).
#[derive(Debug, Clone, PartialEq)]
pub struct Opinion {
    pub result: Arc<crate::web::protocol::CellResult>,
    /// Object URL of the crop the model saw (its map is drawn on it), when it cut one.
    pub crop_url: Option<String>,
}

/// The most workers a pool may have.
pub const MAX_WORKERS: usize = 8;
/// Where the chosen pool size is kept.
const WORKERS_KEY: &str = "marrowscope-workers";

/// One classification worker of the pool.
struct Slot {
    /// Names the worker in its messages (a replaced worker gets a new key).
    key: u32,
    worker: Worker,
    /// Has said it is alive: messages reach it.
    alive: bool,
    /// Was sent the model (it replaces nothing else: a new model gets new workers).
    sent: bool,
    /// Has the model.
    ready: bool,
    /// The jobs it was given, oldest (the one it works on) first; at most [`JOBS_PER_WORKER`].
    jobs: VecDeque<Job>,
    /// Takes no new work and stops once idle (the pool was made smaller).
    retiring: bool,
}

/// A file given to a worker: a cell id (or the Learn tab's opinion), its file and, for a click
/// on a field, where.
struct Job {
    id: u32,
    /// Kept: a field's file serves later clicks on it, and a stopped worker's jobs go back to
    /// the queue with theirs.
    file: Option<File>,
    point: Option<(f32, f32, Option<f32>)>,
}

/// How many files a worker holds at once. The second waits in the worker's own message queue
/// and starts the moment the first is answered: with one, the worker sat idle while its
/// answer crossed to the page and the page read and sent the next file.
const JOBS_PER_WORKER: usize = 2;

#[derive(Default)]
struct Engine {
    /// An image waiting for the model's opinion, and where the answer goes (one at a time; a
    /// newer request replaces an older one that has not started).
    opinion_job: Option<web_sys::Blob>,
    opinion_sink: Option<RwSignal<Option<Result<Opinion, String>>>>,
    slots: Vec<Slot>,
    next_key: u32,
    /// How many workers the pool should have (0: not chosen yet, see [`pool_size`]).
    pool_size: usize,
    /// Test hook: the next file goes to a worker told to run out of memory on it.
    crash_next: bool,
    queue: VecDeque<u32>,
    files: HashMap<u32, File>,
    /// Queued clicks on a field: cell id → (x, y, typical nucleus diameter), original pixels.
    points: HashMap<u32, (f32, f32, Option<f32>)>,
    /// The files of the fields in the batch, by the field entry's id.
    field_files: HashMap<u32, File>,
    /// Cells enqueued but not yet shown (published in chunks, in id order), with their file
    /// (its object URL is made at publication: each costs the browser a synchronous call).
    unpublished: VecDeque<(super::state::Cell, File)>,
    /// A task to publish the next chunk is scheduled.
    publishing: bool,
    /// The model currently loaded (or being loaded) in the worker, kept to restart it.
    model: Option<(String, Uint8Array, String)>,
    pending_manifest: Option<Arc<Manifest>>,
    next_id: u32,
    state: Option<AppState>,
}

thread_local! {
    static ENGINE: RefCell<Engine> = RefCell::new(Engine::default());
}

fn with<R>(f: impl FnOnce(&mut Engine) -> R) -> R {
    ENGINE.with(|e| f(&mut e.borrow_mut()))
}

fn obj(pairs: &[(&str, &JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o
}

/// The worker's URL. `?simd=baseline` (or `relaxed`) on the page's address is passed on to the
/// loader: in a site built with `--relaxed-simd` it picks the relaxed-SIMD bundle wherever the
/// browser supports it, unless `baseline` asks for the SIMD128 one (scripts/worker-variants.mjs).
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

fn spawn_worker(key: u32) -> Result<Worker, String> {
    let worker = Worker::new(&worker_url()).map_err(|e| format!("the classification worker could not start ({e:?})"))?;
    listen(key, &worker);
    Ok(worker)
}

/// Routes worker `key`'s messages and errors to [`on_reply`].
fn listen(key: u32, worker: &Worker) {
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| on_reply(key, ev.data()));
    worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    let onerror = Closure::<dyn FnMut(web_sys::Event)>::new(move |_ev: web_sys::Event| {
        on_reply_value(key, Reply::Crashed { message: "the worker stopped unexpectedly".into() })
    });
    worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
    onerror.forget();
}

/// The worker public/worker-boot.js started before the page's code ran, as the pool's first
/// slot, with the messages it sent since (replayed by [`init`]); `None` when there is none or
/// it was started for another address.
fn adopt_boot_worker(e: &mut Engine) -> Option<(u32, Vec<JsValue>)> {
    let window = web_sys::window()?;
    let _ = Reflect::set(&window, &"__marrowscopeEngine".into(), &JsValue::TRUE);
    let boot = Reflect::get(&window, &"__marrowscopeBoot".into()).ok().filter(|b| b.is_object())?;
    let _ = Reflect::delete_property(&window, &"__marrowscopeBoot".into());
    let worker: Worker = Reflect::get(&boot, &"worker".into()).ok()?.dyn_into().ok()?;
    if Reflect::get(&boot, &"url".into()).ok()?.as_string() != Some(worker_url()) {
        worker.terminate();
        return None;
    }
    let messages: Array = Reflect::get(&boot, &"messages".into()).ok()?.dyn_into().ok()?;
    e.next_key += 1;
    let key = e.next_key;
    listen(key, &worker);
    e.slots.push(Slot::new(key, worker));
    Some((key, messages.to_vec()))
}

/// Starts the engine for this page: the workers start at once, while the page fetches the
/// model, so that starting their WebAssembly does not wait for the download (cold start).
pub fn init(state: AppState) {
    let (adopted, started) = with(|e| {
        e.state = Some(state);
        (adopt_boot_worker(e), fill_pool(e))
    });
    match started {
        Ok(()) => crate::web::marks::mark("workers-started"),
        Err(msg) => console::error("worker", &msg),
    }
    // What the early worker said before the page listened (its "alive", or a crash).
    if let Some((key, messages)) = adopted {
        for m in messages {
            on_reply(key, m);
        }
    }
}

/// The pool size to start with: `?workers=N` on the page's address, else the person's choice
/// (localStorage), else one fewer than the computer's cores; 1 to [`MAX_WORKERS`].
fn default_pool_size() -> usize {
    let from_url = page_param("workers").and_then(|v| v.parse::<usize>().ok());
    let stored = || {
        web_sys::window()
            .and_then(|w| w.local_storage().ok().flatten())
            .and_then(|s| s.get_item(WORKERS_KEY).ok().flatten())
            .and_then(|v| v.parse::<usize>().ok())
    };
    from_url.or_else(stored).unwrap_or_else(|| cores().max(2) - 1).clamp(1, MAX_WORKERS)
}

/// How many workers the pool has (or will have once the model is loaded).
pub fn pool_size() -> usize {
    with(|e| {
        if e.pool_size == 0 {
            e.pool_size = default_pool_size();
        }
        e.pool_size
    })
}

/// The computer's logical cores, as the browser reports them.
pub fn cores() -> usize {
    web_sys::window().map(|w| w.navigator().hardware_concurrency() as usize).unwrap_or(0)
}

/// Changes the pool size (kept for later visits): new workers start and load the model now;
/// surplus workers stop, at once when idle, else after their current file.
pub fn set_pool_size(n: usize) {
    let n = n.clamp(1, MAX_WORKERS);
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = s.set_item(WORKERS_KEY, &n.to_string());
    }
    let result = with(|e| {
        e.pool_size = n;
        let mut active = 0;
        for slot in e.slots.iter_mut().filter(|s| !s.retiring) {
            active += 1;
            if active > n {
                slot.retiring = true;
            }
        }
        retire_idle(e);
        if e.model.is_some() {
            fill_pool(e)
        } else {
            Ok(())
        }
    });
    if let Err(msg) = result {
        console::error("worker", &msg);
    }
    pump();
}

/// Stops the retiring workers that are idle.
fn retire_idle(e: &mut Engine) {
    e.slots.retain(|s| {
        let stop = s.retiring && s.jobs.is_empty();
        if stop {
            s.worker.terminate();
        }
        !stop
    });
}

/// Stops every worker (a new model replaces them).
fn stop_all(e: &mut Engine) {
    for s in e.slots.drain(..) {
        s.worker.terminate();
    }
}

/// Starts workers until the pool has its size. Each is sent the model when it says it is
/// alive: messages posted before its wasm has started would be lost.
fn fill_pool(e: &mut Engine) -> Result<(), String> {
    if e.pool_size == 0 {
        e.pool_size = default_pool_size();
    }
    while e.slots.iter().filter(|s| !s.retiring).count() < e.pool_size {
        e.next_key += 1;
        let key = e.next_key;
        let worker = spawn_worker(key)?;
        e.slots.push(Slot::new(key, worker));
    }
    Ok(())
}

impl Slot {
    /// A worker that has just started: not yet alive, no model, no job.
    fn new(key: u32, worker: Worker) -> Slot {
        Slot { key, worker, alive: false, sent: false, ready: false, jobs: VecDeque::new(), retiring: false }
    }
}

fn slot_mut(e: &mut Engine, key: u32) -> Option<&mut Slot> {
    e.slots.iter_mut().find(|s| s.key == key)
}

/// Whether any worker holds a job.
fn any_busy(e: &Engine) -> bool {
    e.slots.iter().any(|s| !s.jobs.is_empty())
}

/// Frees worker `key` of job `id` after its answer; returns the job's file. The worker's next
/// job, which it starts now, is shown as running.
fn free(key: u32, id: u32) -> Option<File> {
    let (file, next) = with(|e| {
        let slot = slot_mut(e, key)?;
        let pos = slot.jobs.iter().position(|j| j.id == id)?;
        let file = slot.jobs.remove(pos).and_then(|j| j.file);
        Some((file, slot.jobs.front().map(|j| j.id).filter(|id| *id != OPINION_ID)))
    })?;
    if let (Some(next), Some(state)) = (next, with(|e| e.state)) {
        state.update_cell(next, |c| c.state = CellState::Running);
    }
    file
}

/// Puts jobs taken from stopped workers back at the front of the queue, in id order (the
/// Learn tab's opinion is not a queued file).
fn unhold(e: &mut Engine, mut held: Vec<Job>) {
    held.sort_unstable_by_key(|j| j.id);
    for job in held.into_iter().rev() {
        if let (true, Some(f)) = (job.id != OPINION_ID, job.file) {
            e.files.insert(job.id, f);
            if let Some(p) = job.point {
                e.points.insert(job.id, p);
            }
            e.queue.push_front(job.id);
        }
    }
}

/// Sends a model (manifest text + ONNX bytes) to a fresh worker. `source` is shown to the user.
pub fn load_model(manifest_text: String, model: Uint8Array, source: String) {
    let state = with(|e| e.state);
    let Some(state) = state else { return };
    let manifest = match Manifest::from_json(&manifest_text) {
        Ok(m) => Arc::new(m),
        Err(e) => {
            console::error("model", &e.to_string());
            with(|e| {
                stop_all(e);
                e.model = None;
            });
            state.model.set(ModelState::Failed(e.to_string()));
            fail_queue(NO_MODEL);
            return;
        }
    };
    state.model.set(ModelState::Loading(format!("Preparing model {}…", manifest.model_id)));
    let result = with(|e| {
        // The jobs of a stopped worker go back to the front of the queue.
        let held: Vec<Job> = e.slots.iter_mut().flat_map(|s| s.jobs.drain(..)).collect();
        unhold(e, held);
        // Workers that hold another model stop; fresh ones (started with the page) get this one.
        e.slots.retain(|s| {
            if s.sent {
                s.worker.terminate();
            }
            !s.sent
        });
        e.pending_manifest = Some(manifest);
        e.model = Some((manifest_text, model, source));
        fill_pool(e)?;
        let alive: Vec<u32> = e.slots.iter().filter(|s| s.alive).map(|s| s.key).collect();
        alive.into_iter().try_for_each(|key| send_model(e, key))
    });
    if let Err(msg) = result {
        state.model.set(ModelState::Failed(msg));
    }
}

/// Tells the page's other scripts that the model is ready or failed: the service worker
/// registers then (public/sw-register.js), so that its download of the whole site for offline
/// use does not compete with the first start.
pub fn model_settled() {
    if let Some(w) = web_sys::window() {
        if let Ok(ev) = web_sys::Event::new("marrowscope-model-settled") {
            let _ = w.dispatch_event(&ev);
        }
    }
}

fn send_model(e: &mut Engine, key: u32) -> Result<(), String> {
    let (Some(slot), Some((text, bytes, _))) = (e.slots.iter_mut().find(|s| s.key == key), &e.model) else { return Ok(()) };
    if slot.sent {
        return Ok(());
    }
    slot.sent = true;
    crate::web::marks::mark("model-sent");
    let worker = &slot.worker;
    let copy = bytes.slice(0, bytes.length());
    let buffer = copy.buffer();
    let msg = obj(&[("kind", &"load".into()), ("manifest", &JsValue::from_str(text)), ("model", &buffer)]);
    worker.post_message_with_transfer(&msg, &Array::of1(&buffer)).map_err(|e| format!("could not send the model to the worker ({e:?})"))
}

/// Adds files to the batch; returns the new cell ids. The cells appear on the page in
/// chunks of [`PUBLISH_CHUNK`], one chunk per task, so a drop of hundreds of files never
/// blocks the page; classification starts with the first chunk.
pub fn enqueue(files: Vec<File>) -> Vec<u32> {
    let Some(state) = with(|e| e.state) else { return vec![] };
    // Queued cells are exactly the queue's ids and the jobs the workers hold.
    if with(|e| e.queue.is_empty() && !any_busy(e)) {
        state.batch_started.set(js_sys::Date::now());
    }
    let no_model = matches!(state.model.get_untracked(), ModelState::Failed(_));
    // Files given again after a reload go on with the waiting entry of the same name.
    let waiting: Vec<(u32, String)> = state.cells.with_untracked(|cells| {
        cells
            .iter()
            .filter(|c| c.state == CellState::Waiting && !state.resumable.with_untracked(|r| r.contains(&c.id)))
            .map(|c| (c.id, c.name.clone()))
            .collect()
    });
    let names: Vec<String> = files.iter().map(|f| f.name()).collect();
    let matches = crate::session::resume::match_files(&waiting, &names);
    let (again, files): (Vec<_>, Vec<_>) = files.into_iter().zip(matches).partition(|(_, m)| m.is_some());
    let files: Vec<File> = files.into_iter().map(|(f, _)| f).collect();
    let again: Vec<(u32, File)> = again.into_iter().filter_map(|(f, m)| Some((m?, f))).collect();
    if !again.is_empty() && !no_model {
        reattach(state, again.clone());
        requeue(again);
    }
    let ids = with(|e| {
        let mut ids = Vec::new();
        for file in files {
            e.next_id += 1;
            let id = e.next_id;
            let cell = super::state::Cell {
                id,
                rev: 0,
                name: file.name(),
                url: String::new(),
                thumb: String::new(),
                state: if no_model { CellState::Error } else { CellState::Queued },
                result: None,
                final_class: None,
                error: no_model.then(|| NO_MODEL.to_string()),
                field: None,
                field_info: None,
                crop: None,
                progress: None,
            };
            if !no_model {
                e.files.insert(id, file.clone());
                e.queue.push_back(id);
            }
            // The file is offered to the session as its entry is published: reading a picked
            // file's size is a round trip to the browser process in Chromium (about 0.3 ms),
            // which for 500 files would lengthen the task that hands them over by 150 ms.
            e.unpublished.push_back((cell, file));
            ids.push(id);
        }
        ids
    });
    publish();
    ids
}

/// Gives waiting entries their files again (the session stores them, the list shows them), in
/// chunks of [`PUBLISH_CHUNK`], one chunk per task, as [`publish`] does for new entries.
fn reattach(state: AppState, mut items: Vec<(u32, File)>) {
    let rest = items.split_off(items.len().min(PUBLISH_CHUNK));
    for (id, f) in &items {
        super::persist::file_added(*id, f);
        let url = web_sys::Url::create_object_url_with_blob(f).unwrap_or_default();
        state.update_cell(*id, |c| {
            if !c.url.is_empty() {
                let _ = web_sys::Url::revoke_object_url(&c.url);
            }
            c.url = url;
            c.progress = None;
        });
    }
    if !rest.is_empty() {
        leptos::prelude::set_timeout(move || reattach(state, rest), std::time::Duration::ZERO);
    }
}

/// Shows the next chunk of enqueued cells, then schedules the rest for later tasks.
fn publish() {
    let Some(state) = with(|e| e.state) else { return };
    let chunk: Vec<super::state::Cell> = with(|e| {
        let n = e.unpublished.len().min(PUBLISH_CHUNK);
        e.unpublished
            .drain(..n)
            .map(|(mut cell, file)| {
                super::persist::file_added(cell.id, &file);
                cell.url = web_sys::Url::create_object_url_with_blob(&file).unwrap_or_default();
                cell
            })
            .collect()
    });
    if !chunk.is_empty() {
        let first = chunk[0].id;
        state.cells.update(|c| c.extend(chunk));
        if state.selected.get_untracked().is_none() {
            state.selected.set(Some(first));
        }
    }
    pump();
    let more = with(|e| {
        let more = !e.unpublished.is_empty() && !e.publishing;
        if more {
            e.publishing = true;
        }
        more
    });
    if more {
        leptos::prelude::set_timeout(
            || {
                with(|e| e.publishing = false);
                publish();
            },
            std::time::Duration::ZERO,
        );
    }
}

/// Stops the batch: queued files are marked cancelled; the files in the workers finish.
pub fn cancel() {
    let n = drop_queue(false, CellState::Cancelled, None);
    console::info("batch", &format!("cancelled {n} queued files"));
}

/// Puts entries that wait (restored from storage, or given again) back in the queue, with
/// their files, in list order.
pub fn requeue(items: Vec<(u32, File)>) {
    let Some(state) = with(|e| e.state) else { return };
    if items.is_empty() {
        return;
    }
    if with(|e| e.queue.is_empty() && !any_busy(e)) {
        state.batch_started.set(js_sys::Date::now());
    }
    let ids: std::collections::HashSet<u32> = items.iter().map(|(id, _)| *id).collect();
    with(|e| {
        for (id, file) in items {
            e.files.insert(id, file);
            e.queue.push_back(id);
        }
        e.queue.make_contiguous().sort_unstable();
    });
    state.resumable.update(|r| r.retain(|id| !ids.contains(id)));
    state.cells.update(|cells| {
        for c in cells.iter_mut().filter(|c| ids.contains(&c.id)) {
            c.state = CellState::Queued;
            c.progress = None;
            c.error = None;
            c.rev = c.rev.wrapping_add(1);
        }
    });
    pump();
}

/// Takes a restored session's entries in place of the current (empty) list; `field_files`:
/// the fields' files, for cells added by a click.
pub fn adopt(cells: Vec<super::state::Cell>, field_files: Vec<(u32, File)>) {
    let Some(state) = with(|e| e.state) else { return };
    with(|e| {
        e.next_id = e.next_id.max(cells.iter().map(|c| c.id).max().unwrap_or(0));
        e.field_files.extend(field_files);
    });
    let old = state.cells.try_update(|c| std::mem::replace(c, cells)).unwrap_or_default();
    for c in &old {
        c.release_urls();
    }
}

/// Test hook (`?testhooks` on the page's address): the worker runs out of memory on the next
/// file it is given, as it would on a file too large for it (tests/e2e/session.test.mjs).
pub fn crash_worker_on_next_file() {
    with(|e| e.crash_next = true);
}

/// Removes every cell and releases its object URL.
pub fn clear() {
    cancel();
    let Some(state) = with(|e| e.state) else { return };
    let unpublished: Vec<_> = with(|e| {
        e.field_files.clear();
        e.unpublished.drain(..).map(|(cell, _)| cell).collect()
    });
    state.cells.update(|cells| {
        for c in cells.drain(..).chain(unpublished) {
            c.release_urls();
        }
    });
    state.selected.set(None);
}

/// Marks every queued file (and the one in the worker) as failed with `message`
/// (used when no model can run them).
fn fail_queue(message: &str) {
    drop_queue(true, CellState::Error, Some(message));
}

/// Empties the queue (and, with `busy`, forgets the files in the workers), giving those
/// cells `new_state` and `error`. Returns how many cells changed.
fn drop_queue(busy: bool, new_state: CellState, error: Option<&str>) -> usize {
    let Some(state) = with(|e| e.state) else { return 0 };
    let dropped: std::collections::HashSet<u32> = with(|e| {
        let held: Vec<u32> = if busy { e.slots.iter_mut().flat_map(|s| s.jobs.drain(..)).map(|j| j.id).collect() } else { Vec::new() };
        let ids: std::collections::HashSet<u32> = e.queue.drain(..).chain(held).collect();
        for id in &ids {
            e.files.remove(id);
            e.points.remove(id);
        }
        ids
    });
    let mark = |c: &mut super::state::Cell| {
        c.state = new_state;
        c.error = error.map(str::to_string);
        c.rev += 1;
    };
    with(|e| e.unpublished.iter_mut().map(|(c, _)| c).filter(|c| dropped.contains(&c.id)).for_each(mark));
    state.cells.update(|cells| cells.iter_mut().filter(|c| dropped.contains(&c.id)).for_each(mark));
    dropped.len()
}

/// Asks the model about an image that is not part of the batch; the answer is set on `sink`
/// (it goes before the next file of a running batch).
pub fn ask_opinion(image: web_sys::Blob, sink: RwSignal<Option<Result<Opinion, String>>>) {
    sink.set(None);
    with(|e| {
        e.opinion_job = Some(image);
        e.opinion_sink = Some(sink);
    });
    pump();
}

/// A worker that has the model and room for a job, the one with the fewest first, if any.
fn idle_slot(e: &Engine) -> Option<u32> {
    e.slots.iter().filter(|s| s.ready && !s.retiring && s.jobs.len() < JOBS_PER_WORKER).min_by_key(|s| s.jobs.len()).map(|s| s.key)
}

/// Sends `buf` (the bytes of job `id`) to worker `key`; false when it could not be sent.
fn post_job(key: u32, msg: &Object, buf: &ArrayBuffer) -> bool {
    with(|e| e.slots.iter().find(|s| s.key == key).map(|s| s.worker.post_message_with_transfer(msg, &Array::of1(buf)).is_ok()))
        .unwrap_or(false)
}

fn pump_opinion() -> bool {
    let job = with(|e| {
        let key = idle_slot(e)?;
        let blob = e.opinion_job.take()?;
        let slot = slot_mut(e, key)?;
        slot.jobs.push_back(Job { id: OPINION_ID, file: None, point: None });
        Some((key, blob))
    });
    let Some((key, blob)) = job else { return false };
    leptos::task::spawn_local(async move {
        let sent = match JsFuture::from(blob.array_buffer()).await {
            Ok(buf) => {
                let buf: ArrayBuffer = buf.unchecked_into();
                let msg = obj(&[("kind", &"classify".into()), ("id", &JsValue::from(OPINION_ID)), ("bytes", &buf)]);
                post_job(key, &msg, &buf)
            }
            Err(_) => false,
        };
        if !sent {
            on_reply_value(key, Reply::Failed { id: OPINION_ID, message: "The image could not be read by the browser.".into() });
        }
    });
    true
}

/// Delivers the answer to an opinion request and frees its worker for the batch.
fn opinion_done(key: u32, answer: Result<Opinion, String>) {
    free(key, OPINION_ID);
    opinion_deliver(answer);
    pump();
}

fn opinion_deliver(answer: Result<Opinion, String>) {
    if let Some(sink) = with(|e| e.opinion_sink) {
        sink.set(Some(answer));
    }
}

/// Gives work to every idle worker: the Learn tab's opinion first, then the queue in order.
fn pump() {
    with(retire_idle);
    while pump_opinion() {}
    while pump_one() {}
}

/// Sends the next queued file to an idle worker; false when there is none or nothing to send.
fn pump_one() -> bool {
    let next = with(|e| {
        // Ids only grow, so the next queued file is on the page unless it is at or past the
        // first unpublished cell.
        let shown = |id: &u32| e.unpublished.front().is_none_or(|(c, _)| *id < c.id);
        if !e.queue.front().is_some_and(shown) {
            return None;
        }
        let key = idle_slot(e)?;
        let id = e.queue.pop_front()?;
        let file = e.files.remove(&id)?;
        let crash = std::mem::take(&mut e.crash_next);
        let point = e.points.remove(&id);
        let slot = slot_mut(e, key)?;
        let first = slot.jobs.is_empty();
        slot.jobs.push_back(Job { id, file: Some(file.clone()), point });
        if crash {
            let _ = slot.worker.post_message(&obj(&[("kind", &"selftest_oom_next".into())]));
        }
        Some((key, id, file, point, first, e.state?))
    });
    let Some((key, id, file, point, first, state)) = next else { return false };
    // Queued behind another job, it runs once that one is answered ([`free`]).
    state.update_cell(id, |c| c.state = if first { CellState::Running } else { CellState::Queued });
    leptos::task::spawn_local(async move {
        let sent = match JsFuture::from(file.array_buffer()).await {
            Ok(buf) => {
                let buf: ArrayBuffer = buf.unchecked_into();
                let msg = match point {
                    None => obj(&[("kind", &"classify".into()), ("id", &JsValue::from(id)), ("bytes", &buf)]),
                    Some((x, y, nucleus)) => obj(&[
                        ("kind", &"cell_at".into()),
                        ("id", &JsValue::from(id)),
                        ("bytes", &buf),
                        ("x", &JsValue::from(x)),
                        ("y", &JsValue::from(y)),
                        ("nucleus", &nucleus.map(JsValue::from).unwrap_or(JsValue::UNDEFINED)),
                    ]),
                };
                post_job(key, &msg, &buf)
            }
            Err(_) => false,
        };
        if !sent {
            on_reply_value(key, Reply::Failed { id, message: "The file could not be read by the browser.".into() });
        }
    });
    true
}

fn on_reply(key: u32, data: JsValue) {
    // The JPEGs the worker sent as Blobs (`protocol::BLOBS`) are taken out before the rest is read.
    let blobs = Reflect::get(&data, &JsValue::from_str(BLOBS)).unwrap_or(JsValue::UNDEFINED);
    if !blobs.is_undefined() {
        if let Some(o) = data.dyn_ref::<Object>() {
            let _ = Reflect::delete_property(o, &JsValue::from_str(BLOBS));
        }
    }
    match serde_wasm_bindgen::from_value::<Reply>(data) {
        Ok(r) => on_reply_with(key, r, &blobs),
        Err(e) => console::error("worker", &format!("unreadable message: {e}")),
    }
}

/// The JPEG `name` of a reply: the Blob the worker made, else one made here from `bytes`
/// (none for no bytes).
fn given_jpeg(blobs: &JsValue, name: &str, bytes: Option<&[u8]>) -> Option<web_sys::Blob> {
    let sent = if blobs.is_undefined() { None } else { Reflect::get(blobs, &JsValue::from_str(name)).ok() };
    match sent.and_then(|b| b.dyn_into::<web_sys::Blob>().ok()) {
        Some(b) => Some(b),
        None => bytes.filter(|b| !b.is_empty()).and_then(crate::web::blob::jpeg),
    }
}

/// A message from worker `key` that carries no Blobs.
fn on_reply_value(key: u32, reply: Reply) {
    on_reply_with(key, reply, &JsValue::UNDEFINED);
}

/// A message from worker `key`; `blobs`: its JPEGs as Blobs, where the worker sent them so.
fn on_reply_with(key: u32, reply: Reply, blobs: &JsValue) {
    let Some(state) = with(|e| e.state) else { return };
    // A message from a worker that was stopped since (a new model, a smaller pool).
    if with(|e| !e.slots.iter().any(|s| s.key == key)) {
        return;
    }
    let holds_opinion = with(|e| e.slots.iter().any(|s| s.key == key && s.jobs.iter().any(|j| j.id == OPINION_ID)));
    // The Learn tab's second opinion is not a cell of the batch.
    let reply = match reply {
        Reply::Done { id: OPINION_ID, result, crop, .. } => {
            let crop_url = crop.map(|k| {
                given_jpeg(blobs, "crop", Some(&k.jpeg))
                    .and_then(|b| web_sys::Url::create_object_url_with_blob(&b).ok())
                    .unwrap_or_default()
            });
            return opinion_done(key, Ok(Opinion { result: Arc::new(result), crop_url }));
        }
        Reply::Field { id: OPINION_ID, .. } => {
            return opinion_done(key, Err("The model took this image for a field of several cells.".into()));
        }
        Reply::Failed { id: OPINION_ID, message } => return opinion_done(key, Err(message)),
        Reply::Progress { id: OPINION_ID, .. } => return,
        Reply::Crashed { message } if holds_opinion => {
            // No pump here: the worker is replaced below first.
            opinion_deliver(Err("The classifier stopped on this image; it is restarting.".into()));
            Reply::Crashed { message }
        }
        other => other,
    };
    match reply {
        Reply::Alive => {
            let sent = with(|e| {
                if let Some(slot) = slot_mut(e, key) {
                    slot.alive = true;
                }
                send_model(e, key)
            });
            if let Err(msg) = sent {
                state.model.set(ModelState::Failed(msg));
            }
        }
        Reply::Bench { .. } => {}
        Reply::Loaded { model_id, load_ms, simd } => {
            let (manifest, source) = with(|e| {
                if let Some(slot) = slot_mut(e, key) {
                    slot.ready = true;
                }
                (e.pending_manifest.clone(), e.model.as_ref().map(|m| m.2.clone()).unwrap_or_default())
            });
            if let Some(manifest) = manifest {
                if !matches!(state.model.get_untracked(), ModelState::Ready { ref manifest, .. } if manifest.model_id == model_id) {
                    crate::web::marks::mark("model-ready");
                    state.model.set(ModelState::Ready { manifest, load_ms, source, simd });
                    model_settled();
                }
            }
            pump();
        }
        Reply::LoadError { message } => {
            // The same model fails in every worker.
            with(|e| {
                for slot in &mut e.slots {
                    slot.ready = false;
                }
            });
            state.model.set(ModelState::Failed(message));
            fail_queue(NO_MODEL);
            model_settled();
        }
        Reply::Progress { id, stage, done, total } => {
            let text = if total > 0 { format!("{stage} {}/{total}", done + 1) } else { format!("{stage}…") };
            state.update_cell(id, |c| c.progress = Some(text));
        }
        Reply::Field { id, field } => {
            if let Some(f) = free(key, id) {
                with(|e| e.field_files.insert(id, f));
            }
            field_done(state, id, field);
            pump();
        }
        Reply::Added { id, cell } => {
            free(key, id);
            let url = crop_url(id, &cell);
            let thumb = thumb_url(id, cell.thumb.as_deref());
            state.update_cell(id, |c| {
                c.state = CellState::Done;
                c.progress = None;
                c.url = url;
                set_thumb(c, thumb);
                if let Some(f) = &c.field {
                    c.field = Some(Arc::new(FieldRef { bbox: cell.bbox, ..(**f).clone() }));
                }
                c.result = Some(Arc::new(cell.result));
            });
            pump();
        }
        Reply::Done { id, result, crop, thumb } => {
            free(key, id);
            let crop = crop.map(|k| {
                let url = stored_url(id, given_jpeg(blobs, "crop", Some(&k.jpeg)), super::persist::Kind::Crop);
                Arc::new(super::state::CropView { url, bbox: k.bbox, nucleus_px: k.nucleus_px, scale: k.scale })
            });
            let thumb = stored_url(id, given_jpeg(blobs, "thumb", thumb.as_deref()), super::persist::Kind::Thumb);
            state.update_cell(id, |c| {
                c.state = CellState::Done;
                c.progress = None;
                c.result = Some(Arc::new(result));
                set_thumb(c, thumb);
                if let Some(old) = c.crop.take() {
                    let _ = web_sys::Url::revoke_object_url(&old.url);
                }
                c.crop = crop;
            });
            pump();
        }
        Reply::Failed { id, message } => {
            free(key, id);
            console::warn("file", &message);
            state.update_cell(id, |c| {
                c.state = CellState::Error;
                c.error = Some(message);
            });
            pump();
        }
        Reply::Crashed { message } => {
            console::error("worker", &message);
            // The worker is replaced; the file it worked on is marked failed (an opinion was
            // answered above) and the one waiting behind it goes back to the queue.
            let busy = with(|e| {
                let pos = e.slots.iter().position(|s| s.key == key)?;
                let mut slot = e.slots.remove(pos);
                slot.worker.terminate();
                let running = slot.jobs.pop_front()?;
                let waiting: Vec<Job> = slot.jobs.drain(..).collect();
                unhold(e, waiting);
                Some(running.id).filter(|id| *id != OPINION_ID)
            });
            if let Some(id) = busy {
                state.update_cell(id, |c| {
                    c.state = CellState::Error;
                    c.error = Some("This file stopped the classifier (internal error); it was skipped.".into());
                });
            }
            if let Err(msg) = with(fill_pool) {
                state.model.set(ModelState::Failed(msg));
            }
            pump();
        }
    }
}

/// Object URL of the crop the model saw (JPEG from the worker) for entry `id`, which stores it.
fn crop_url(id: u32, cell: &FieldCell) -> String {
    jpeg_url(id, &cell.crop_jpeg)
}

/// Object URL of JPEG bytes, the crop of entry `id` (stored with the session).
fn jpeg_url(id: u32, jpeg: &[u8]) -> String {
    stored_jpeg_url(id, jpeg, super::persist::Kind::Crop)
}

/// Object URL of the list's preview of entry `id` (stored with the session); empty without one.
fn thumb_url(id: u32, jpeg: Option<&[u8]>) -> String {
    jpeg.map(|j| stored_jpeg_url(id, j, super::persist::Kind::Thumb)).unwrap_or_default()
}

fn stored_jpeg_url(id: u32, jpeg: &[u8], kind: super::persist::Kind) -> String {
    stored_url(id, crate::web::blob::jpeg(jpeg), kind)
}

/// Object URL of a JPEG Blob of entry `id`, which the session stores; empty without one.
fn stored_url(id: u32, blob: Option<web_sys::Blob>, kind: super::persist::Kind) -> String {
    let Some(blob) = blob else { return String::new() };
    super::persist::blob_made(id, kind, &blob);
    web_sys::Url::create_object_url_with_blob(&blob).unwrap_or_default()
}

/// Gives cell `c` its new preview, releasing the old one.
fn set_thumb(c: &mut super::state::Cell, thumb: String) {
    if thumb.is_empty() {
        return;
    }
    if !c.thumb.is_empty() {
        let _ = web_sys::Url::revoke_object_url(&c.thumb);
    }
    c.thumb = thumb;
}

/// A dropped file turned out to be a field: its entry becomes the field's, and each white cell
/// found joins the batch right after it, as a cell of its own (with its field and box).
fn field_done(state: AppState, id: u32, field: crate::web::protocol::FieldResult) {
    let Some(parent) = state.cell(id) else { return };
    let n = field.cells.len();
    let first_id = with(|e| {
        let first = e.next_id + 1;
        e.next_id += n as u32;
        first
    });
    let children: Vec<super::state::Cell> = field
        .cells
        .iter()
        .enumerate()
        .map(|(k, fc)| super::state::Cell {
            id: first_id + k as u32,
            rev: 0,
            name: format!("{} · cell {}", parent.name, k + 1),
            url: crop_url(first_id + k as u32, fc),
            thumb: thumb_url(first_id + k as u32, fc.thumb.as_deref()),
            state: CellState::Done,
            result: Some(Arc::new(fc.result.clone())),
            final_class: None,
            error: None,
            field: Some(Arc::new(FieldRef {
                field_id: id,
                field_name: parent.name.clone(),
                field_url: parent.url.clone(),
                bbox: fc.bbox,
                added: fc.added,
            })),
            field_info: None,
            crop: None,
            progress: None,
        })
        .collect();
    console::info("field", &format!("{}: {} (detection {:.0} ms)", parent.name, field.layout, field.detect_ms));
    let field_thumb = thumb_url(id, field.thumb.as_deref());
    let info = FieldInfo {
        width: field.width,
        height: field.height,
        format: field.format,
        layout: field.layout,
        typical_nucleus_px: field.typical_nucleus_px,
        detect_ms: field.detect_ms,
        ms: field.ms,
        memory_mb: field.memory_mb,
    };
    state.cells.update(|cells| {
        if let Some(pos) = cells.iter().position(|c| c.id == id) {
            let c = &mut cells[pos];
            c.state = CellState::Done;
            c.progress = None;
            set_thumb(c, field_thumb);
            c.field_info = Some(Arc::new(info));
            c.rev = c.rev.wrapping_add(1);
            cells.splice(pos + 1..pos + 1, children);
        }
    });
}

/// Adds a cell the person clicked on a field (`x`, `y`: the field image's pixels); the worker
/// finds the nucleus there (or takes a cell of the field's typical size) and classifies it.
pub fn add_cell_at(field_id: u32, x: f32, y: f32) {
    let Some(state) = with(|e| e.state) else { return };
    let Some(field) = state.cell(field_id) else { return };
    let Some(info) = field.field_info.clone() else { return };
    let Some(file) = with(|e| e.field_files.get(&field_id).cloned()) else { return };
    let n = state.cells.with_untracked(|cells| cells.iter().filter(|c| c.field.as_ref().is_some_and(|f| f.field_id == field_id)).count());
    let half = info.typical_nucleus_px.unwrap_or(40.0);
    let bbox = [(x - half).max(0.0) as u32, (y - half).max(0.0) as u32, (2.0 * half) as u32, (2.0 * half) as u32];
    let id = with(|e| {
        e.next_id += 1;
        let id = e.next_id;
        e.files.insert(id, file);
        e.points.insert(id, (x, y, info.typical_nucleus_px));
        e.queue.push_back(id);
        id
    });
    let cell = super::state::Cell {
        id,
        rev: 0,
        name: format!("{} · cell {} (added)", field.name, n + 1),
        url: String::new(),
        thumb: String::new(),
        state: CellState::Queued,
        result: None,
        final_class: None,
        error: None,
        field: Some(Arc::new(FieldRef { field_id, field_name: field.name.clone(), field_url: field.url.clone(), bbox, added: true })),
        field_info: None,
        crop: None,
        progress: None,
    };
    state.cells.update(|cells| {
        let last = cells.iter().rposition(|c| c.id == field_id || c.field.as_ref().is_some_and(|f| f.field_id == field_id));
        let at = last.map(|p| p + 1).unwrap_or(cells.len());
        cells.insert(at, cell);
    });
    state.selected.set(Some(id));
    pump();
}

/// Removes a cell of a field that is not a white cell (a false detection).
pub fn remove_cell(id: u32) {
    let Some(state) = with(|e| e.state) else { return };
    let Some(cell) = state.cell(id) else { return };
    let Some(field) = cell.field.clone() else { return };
    if matches!(cell.state, CellState::Queued | CellState::Running) {
        return;
    }
    cell.release_urls();
    state.cells.update(|cells| cells.retain(|c| c.id != id));
    if state.selected.get_untracked() == Some(id) {
        state.selected.set(Some(field.field_id));
    }
}
