//! The page's side of the classification workers: a pool of them (by default one fewer than
//! the computer's cores, at most 8; a setting changes it), each with its own copy of the model.
//! What the pool does (the queue, two files per worker, crash replacement, resizing, cancel) is
//! decided by [`crate::pool`]; this is the glue that gives it the page's events and the
//! workers' messages, and carries its commands to real Workers ([`super::workers`]) and to the
//! list ([`super::entries`]; the answers themselves go on the list through [`super::replies`],
//! the model's status through [`super::model_status`], the Learn tab's second opinion through
//! [`super::opinion`]).
//!
//! The session's storage (`persist`) sits above: restoring or switching sessions calls
//! [`adopt`], [`clear`] and [`requeue`]. The engine never calls it: the files it shows and the
//! images the workers make go to [`super::outbox`], which `persist` empties as it writes.

use super::entries;
use super::model_status::{self, Model};
use super::opinion::{self, Sink};
use super::replies;
use super::state::{AppState, Cell, CellState, ModelState};
use super::workers::{self, Read};
pub use crate::pool::MAX_WORKERS;
use crate::pool::{Command, Event, Job, Point, Pool, OPINION_ID};
use crate::web::console;
use crate::web::protocol::Reply;
use js_sys::Uint8Array;
use leptos::prelude::*;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use wasm_bindgen::JsValue;
use web_sys::{Blob, File};

#[derive(Default)]
struct Engine {
    pool: Pool<File>,
    /// The files of the fields in the batch, by the field entry's id (for clicks on them).
    field_files: HashMap<u32, File>,
    /// The model loaded (or being loaded) in the workers, kept for workers started later.
    model: Option<Model>,
    state: Option<AppState>,
}

thread_local! {
    static ENGINE: RefCell<Engine> = RefCell::new(Engine::default());
}

fn with<R>(f: impl FnOnce(&mut Engine) -> R) -> R {
    ENGINE.with(|e| f(&mut e.borrow_mut()))
}

/// Gives the pool `event` and carries out what it says; the first error of starting a worker
/// or sending it the model, if any.
fn handle(event: Event<File>) -> Result<(), String> {
    run(with(|e| e.pool.handle(event)))
}

fn run(commands: Vec<Command<File>>) -> Result<(), String> {
    let (mut result, mut start_failed) = (Ok(()), false);
    let Some(state) = with(|e| e.state) else { return result };
    for command in commands {
        match command {
            // After one fails to start, the rest of this pool's workers are not tried.
            Command::StartWorker { key } if start_failed => {
                with(|e| e.pool.handle(Event::StartFailed { key }));
            }
            Command::StartWorker { key } => {
                if let Err(msg) = workers::start(key, on_message, on_error) {
                    start_failed = true;
                    with(|e| e.pool.handle(Event::StartFailed { key }));
                    result = result.and(Err(msg));
                }
            }
            Command::SendModel { key } => {
                let sent = with(|e| e.model.as_ref().map(|m| workers::post_model(key, &m.text, &m.bytes)));
                result = result.and(sent.unwrap_or(Ok(())));
            }
            Command::SendJob { key, job: Job { id, file, point } } => {
                let read = point.map_or(Read::Decide, Read::At);
                workers::send(key, id, file.into(), read, unread(key, id, "The file could not be read by the browser."))
            }
            Command::SendOpinion { key } => {
                let failed = unread(key, OPINION_ID, "The image could not be read by the browser.");
                match opinion::take_image() {
                    Some(image) => workers::send(key, OPINION_ID, image, Read::OneCell, failed),
                    None => failed(),
                }
            }
            Command::ArmCrash { key } => workers::arm_crash(key),
            Command::StopWorker { key } => workers::stop(key),
            Command::NewEntry { id, file, error } => entries::add(id, file, error),
            Command::Finished { .. } => {}
            Command::MarkRunning(id) => entries::mark(state, id, CellState::Running, None),
            Command::MarkQueued(id) => entries::mark(state, id, CellState::Queued, None),
            Command::MarkFailed { id, message } => entries::mark(state, id, CellState::Error, Some(message)),
            Command::Drop { ids, why } => entries::dropped(state, ids, why),
            Command::OpinionFailed { message } => opinion::deliver(Err(message.into())),
        }
    }
    result
}

/// What happens when job `id` of worker `key` could not be read or sent: it fails with `message`.
fn unread(key: u32, id: u32, message: &'static str) -> impl FnOnce() {
    move || on_reply(key, Reply::Failed { id, message: message.into() }, &JsValue::UNDEFINED)
}

/// Starts the engine for this page: the workers start at once, while the page fetches the
/// model, so that starting their WebAssembly does not wait for the download (cold start). The
/// worker public/worker-boot.js started before the page's code is the pool's first.
pub fn init(state: AppState) {
    workers::take_boot_worker();
    let commands = with(|e| {
        e.state = Some(state);
        e.pool.default_size(workers::default_count());
        e.pool.handle(Event::Start)
    });
    match run(commands) {
        Ok(()) => crate::web::marks::mark("workers-started"),
        Err(msg) => console::error("worker", &msg),
    }
    // What the early worker said before the page listened (its "alive", or a crash).
    if let Some((key, messages)) = workers::boot_messages() {
        for m in messages {
            on_message(key, m);
        }
    }
}

/// How many workers the pool has (or will have once the model is loaded).
pub fn pool_size() -> usize {
    with(|e| {
        if e.pool.size() == 0 {
            e.pool.default_size(workers::default_count());
        }
        e.pool.size()
    })
}

/// Changes the pool size (kept for later visits): new workers start and load the model now;
/// surplus workers stop, at once when idle, else after their current files.
pub fn set_pool_size(n: usize) {
    let n = n.clamp(1, MAX_WORKERS);
    workers::remember_count(n);
    if let Err(msg) = handle(Event::Resize(n)) {
        console::error("worker", &msg);
    }
}

/// Sends a model (manifest text + ONNX bytes) to the workers. `source` is shown to the user.
pub fn load_model(manifest_text: String, model: Uint8Array, source: String) {
    let Some(state) = with(|e| e.state) else { return };
    let model = model_status::read(state, manifest_text, model, source);
    let event = if model.is_some() { Event::ModelGiven } else { Event::ModelInvalid };
    with(|e| e.model = model);
    if let Err(msg) = handle(event) {
        state.model.set(ModelState::Failed(msg));
    }
}

fn on_message(key: u32, data: JsValue) {
    match replies::read(data) {
        Ok((reply, blobs)) => on_reply(key, reply, &blobs),
        Err(msg) => console::error("worker", &msg),
    }
}

fn on_error(key: u32) {
    on_reply(key, Reply::Crashed { message: "the worker stopped unexpectedly".into() }, &JsValue::UNDEFINED);
}

/// A message from worker `key`; `blobs`: its JPEGs as Blobs, where the worker sent them so.
fn on_reply(key: u32, reply: Reply, blobs: &JsValue) {
    let Some(state) = with(|e| e.state) else { return };
    // A message from a worker that was stopped since (a new model, a smaller pool).
    if !with(|e| e.pool.has_worker(key)) {
        return;
    }
    let result = match reply {
        // The Learn tab's second opinion is not a cell of the batch.
        Reply::Done { id: OPINION_ID, result, crop, .. } => opinion_done(key, Ok(replies::opinion(result, crop, blobs))),
        Reply::Field { id: OPINION_ID, .. } => opinion_done(key, Err("The model took this image for a field of several cells.".into())),
        Reply::Failed { id: OPINION_ID, message } => opinion_done(key, Err(message)),
        Reply::Progress { id: OPINION_ID, .. } | Reply::Bench { .. } | Reply::Boxes { .. } => Ok(()),
        Reply::Alive => handle(Event::Alive { key }),
        Reply::Loaded { model_id, load_ms, simd } => {
            let given = with(|e| e.model.as_ref().map(|m| (m.manifest.clone(), m.source.clone())));
            model_status::loaded(state, given, &model_id, load_ms, simd);
            handle(Event::Loaded { key })
        }
        Reply::LoadError { message } => {
            // The same model fails in every worker.
            state.model.set(ModelState::Failed(message));
            let result = handle(Event::LoadFailed);
            model_status::settled();
            result
        }
        Reply::Progress { id, stage, done, total } => {
            replies::progress(state, id, &stage, done, total);
            Ok(())
        }
        Reply::Field { id, field } => answered(key, id, |file| {
            if let Some(file) = file {
                with(|e| e.field_files.insert(id, file));
            }
            replies::field(state, id, field, |n| with(|e| e.pool.new_ids(n)));
        }),
        Reply::Added { id, cell } => answered(key, id, |_| replies::added(state, id, cell)),
        Reply::Done { id, result, crop, thumb } => answered(key, id, |_| replies::done(state, id, result, crop, thumb, blobs)),
        Reply::Failed { id, message } => answered(key, id, |_| replies::failed(state, id, message)),
        Reply::Crashed { message } => {
            // The worker is replaced; the file it worked on is marked failed and the one
            // waiting behind it goes back to the queue.
            console::error("worker", &message);
            handle(Event::Crashed { key })
        }
    };
    if let Err(msg) = result {
        state.model.set(ModelState::Failed(msg));
    }
}

/// Adds files to the batch. The entries appear on the page in chunks, one chunk per task, so a
/// drop of hundreds of files never blocks the page; classification starts with the first chunk.
pub fn enqueue(files: Vec<File>) {
    let Some(state) = with(|e| e.state) else { return };
    if with(|e| e.pool.is_idle()) {
        state.batch_started.set(js_sys::Date::now());
    }
    let no_model = matches!(state.model.get_untracked(), ModelState::Failed(_));
    // Files given again after a reload go on with the waiting entry of the same name.
    let (again, files) = entries::given_again(state, files);
    if !again.is_empty() && !no_model {
        entries::reattach(state, again.clone());
        requeue(again);
    }
    let _ = handle(Event::FilesAdded { files, no_model });
    entries::publish(state, shown);
}

/// The first `n` new entries are on the page: their files may go to the workers.
fn shown(n: usize) {
    let _ = handle(Event::Shown(n));
}

/// Whether files are being classified (the camera's live view waits meanwhile).
pub fn busy() -> bool {
    !with(|e| e.pool.is_idle())
}

/// Stops the batch: queued files are marked cancelled; the files in the workers finish.
pub fn cancel() {
    drop_queue(Event::Cancel);
}

/// Empties the queue for `event` (cancel, clear).
fn drop_queue(event: Event<File>) {
    let commands = with(|e| e.pool.handle(event));
    let n: usize = commands.iter().map(|c| if let Command::Drop { ids, .. } = c { ids.len() } else { 0 }).sum();
    let _ = run(commands);
    console::info("batch", &format!("cancelled {n} queued files"));
}

/// Puts entries that wait (restored from storage, or given again) back in the queue, with
/// their files, in list order.
pub fn requeue(items: Vec<(u32, File)>) {
    let Some(state) = with(|e| e.state) else { return };
    if items.is_empty() {
        return;
    }
    if with(|e| e.pool.is_idle()) {
        state.batch_started.set(js_sys::Date::now());
    }
    entries::requeued(state, &items.iter().map(|(id, _)| *id).collect::<HashSet<u32>>());
    let _ = handle(Event::Requeue(items));
}

/// Takes a restored session's entries in place of the current (empty) list; `field_files`:
/// the fields' files, for cells added by a click.
pub fn adopt(cells: Vec<Cell>, field_files: Vec<(u32, File)>) {
    let Some(state) = with(|e| e.state) else { return };
    with(|e| {
        e.pool.ids_taken(cells.iter().map(|c| c.id).max().unwrap_or(0));
        e.field_files.extend(field_files);
    });
    entries::replace(state, cells);
}

/// Removes every entry and releases its object URLs (the files in the workers finish unseen).
pub fn clear() {
    drop_queue(Event::Clear);
    let Some(state) = with(|e| e.state) else { return };
    with(|e| e.field_files.clear());
    entries::clear(state);
}

/// Test hook (`?testhooks` on the page's address): the worker runs out of memory on the next
/// file it is given, as it would on a file too large for it (tests/e2e/session.test.mjs).
pub fn crash_worker_on_next_file() {
    let _ = handle(Event::CrashNext);
}

/// Asks the model about an image that is not part of the batch; the answer is set on `sink`
/// (it goes before the next file of a running batch; a newer request replaces one not sent).
pub fn ask_opinion(image: Blob, sink: Sink) {
    opinion::asked(image, sink);
    let _ = handle(Event::OpinionAsked);
}

/// Job `id` of worker `key` was answered: `apply` puts the answer on the list (given the job's
/// file), then the worker's place goes to the pool's next job.
fn answered(key: u32, id: u32, apply: impl FnOnce(Option<File>)) -> Result<(), String> {
    let commands = with(|e| e.pool.handle(Event::Answered { key, id }));
    apply(commands.iter().find_map(|c| if let Command::Finished { file, .. } = c { Some(file.clone()) } else { None }));
    run(commands)
}

/// Delivers the answer to an opinion request and frees its worker for the batch.
fn opinion_done(key: u32, answer: Result<opinion::Opinion, String>) -> Result<(), String> {
    answered(key, OPINION_ID, |_| opinion::deliver(answer))
}

/// Adds a cell the person clicked on a field (`x`, `y`: the field image's pixels); the worker
/// finds the nucleus there (or takes a cell of the field's typical size) and classifies it.
pub fn add_cell_at(field_id: u32, x: f32, y: f32) {
    let Some(state) = with(|e| e.state) else { return };
    let Some(field) = state.cell(field_id) else { return };
    let Some(info) = field.field_info.clone() else { return };
    let Some(file) = with(|e| e.field_files.get(&field_id).cloned()) else { return };
    let id = with(|e| e.pool.new_ids(1));
    entries::add_clicked(state, &field, id, (x, y), info.typical_nucleus_px.unwrap_or(40.0));
    let _ = handle(Event::CellAt { id, file, point: Point { x, y, nucleus: info.typical_nucleus_px } });
}

/// Removes a cell of a field that is not a white cell (a false detection).
pub fn remove_cell(id: u32) {
    if let Some(state) = with(|e| e.state) {
        entries::remove_cell(state, id);
    }
}
