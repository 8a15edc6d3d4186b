//! The pool of classification workers as a plain state machine: which worker holds which file,
//! what waits, and what happens when a worker is ready, answers, dies, or the pool is resized.
//! No browser here: the page's glue (`ui::engine`) feeds it [`Event`]s and carries out the
//! [`Command`]s it returns (starting and stopping real Web Workers, posting files, updating the
//! list), so every rule below is tested natively (`cargo test --lib pool`).
//!
//! The rules:
//! - one queue of files, in id order; each worker holds at most [`JOBS_PER_WORKER`] of them
//!   (the first runs, the second waits in the worker's own message queue), and a file goes to
//!   the ready worker that holds the fewest, the first such in start order;
//! - a file is sent the moment a worker has room (it loaded the model, it answered);
//! - a file whose entry is not on the page yet is held back ([`Event::Shown`]);
//! - the Learn tab's "second opinion" ([`OPINION_ID`]) goes before the next file of the queue;
//! - a worker that dies: the file it ran fails ([`CRASHED`]), the one waiting behind it goes
//!   back to the front of the queue, and a new worker takes its place;
//! - a smaller pool stops idle surplus workers at once and busy ones after their files; a
//!   larger one starts workers (once a model was given);
//! - a new model stops the workers that hold the old one (their files go back to the front of
//!   the queue); workers that never got a model keep running and get the new one;
//! - cancel empties the queue (those entries are cancelled) and lets the workers finish theirs;
//! - no model (invalid, or its loading failed): waiting files fail with [`NO_MODEL`], and new
//!   files fail with it at once.

use std::collections::VecDeque;

/// The most workers a pool may have.
pub const MAX_WORKERS: usize = 8;

/// How many files a worker holds at once. The second waits in the worker's own message queue
/// and starts the moment the first is answered: with one, the worker sat idle while its
/// answer crossed to the page and the page read and sent the next file.
pub const JOBS_PER_WORKER: usize = 2;

/// The id of a request that is not an entry of the batch: the Learn tab's second opinion.
pub const OPINION_ID: u32 = u32::MAX - 1;

/// Shown on files that arrive, or wait, when no model can classify them.
pub const NO_MODEL: &str = "No model is loaded, so this image was not classified. Reload the page or load a valid model.";

/// Shown on the file a worker was running when it died.
pub const CRASHED: &str = "This file stopped the classifier (internal error); it was skipped.";

/// The answer to a second opinion whose worker died.
pub const OPINION_CRASHED: &str = "The classifier stopped on this image; it is restarting.";

/// A click on a field: where (the field image's pixels) and the field's typical nucleus
/// diameter, when known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub x: f32,
    pub y: f32,
    pub nucleus: Option<f32>,
}

/// A file to classify: its entry's id, the file (`F`: a browser `File` on the page, anything in
/// tests) and, for a click on a field, where.
#[derive(Debug, Clone, PartialEq)]
pub struct Job<F> {
    pub id: u32,
    pub file: F,
    pub point: Option<Point>,
}

/// What happens to entries taken out of the queue without being classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// The person cancelled the batch: the entries are cancelled, without a message.
    Cancelled,
    /// No model can run them: the entries fail with [`NO_MODEL`].
    NoModel,
}

/// What the pool is told.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<F> {
    /// The page opened: start the pool's workers (they load the model once it is given).
    Start,
    /// Worker `key` (a [`Command::StartWorker`]) could not be started: it is no slot.
    StartFailed { key: u32 },
    /// The person chose another pool size (clamped to 1..=[`MAX_WORKERS`]).
    Resize(usize),
    /// A valid model was given (the bundled one, or the person's own).
    ModelGiven,
    /// The model given is invalid (its manifest cannot be read): every worker stops.
    ModelInvalid,
    /// Worker `key` started: messages reach it now.
    Alive { key: u32 },
    /// Worker `key` has the model.
    Loaded { key: u32 },
    /// The model could not be loaded (the same model fails in every worker).
    LoadFailed,
    /// Worker `key` answered job `id` (a result, a field, a failure; or the opinion).
    Answered { key: u32, id: u32 },
    /// Worker `key` died.
    Crashed { key: u32 },
    /// Files were dropped on the page; `no_model`: the model failed, nothing can run them.
    FilesAdded { files: Vec<F>, no_model: bool },
    /// The first `n` entries added by [`Event::FilesAdded`] and not yet shown are on the page.
    Shown(usize),
    /// Entries that wait (restored, or given again) go back in the queue, with their files.
    Requeue(Vec<(u32, F)>),
    /// A cell clicked on a field: entry `id` (from [`Pool::new_ids`]), the field's file, where.
    CellAt { id: u32, file: F, point: Point },
    /// The person cancelled the batch.
    Cancel,
    /// The list is emptied: as [`Event::Cancel`], and entries not yet shown are forgotten.
    Clear,
    /// The Learn tab asks for a second opinion (a newer request replaces one not yet sent).
    OpinionAsked,
    /// Test hook: the next file goes to a worker told to run out of memory on it.
    CrashNext,
}

/// What the page must do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Command<F> {
    /// Start a worker named `key` (its messages carry the key).
    StartWorker { key: u32 },
    /// Send the model to worker `key` (it said it is alive).
    SendModel { key: u32 },
    /// Send `job` to worker `key`.
    SendJob { key: u32, job: Job<F> },
    /// Send the image waiting for a second opinion to worker `key`.
    SendOpinion { key: u32 },
    /// Test hook: tell worker `key` to run out of memory on the next file it gets.
    ArmCrash { key: u32 },
    /// Stop worker `key` (its later messages are to be ignored: [`Pool::has_worker`]).
    StopWorker { key: u32 },
    /// A new entry for a dropped file; `error`: it failed at once (with this message).
    NewEntry { id: u32, file: F, error: Option<&'static str> },
    /// Entry `id`'s job was answered; its file (a field's is kept for clicks on it).
    Finished { id: u32, file: F },
    /// Show entry `id` as running (its worker works on it).
    MarkRunning(u32),
    /// Show entry `id` as queued (it waits in a worker, behind another file).
    MarkQueued(u32),
    /// Entry `id` failed with `message`.
    MarkFailed { id: u32, message: &'static str },
    /// Entries taken out of the queue (in queue order), and what they become.
    Drop { ids: Vec<u32>, why: Dropped },
    /// The second opinion failed with `message`.
    OpinionFailed { message: &'static str },
}

/// What a worker holds.
#[derive(Debug, Clone, PartialEq)]
enum Task<F> {
    File(Job<F>),
    Opinion,
}

impl<F> Task<F> {
    fn id(&self) -> u32 {
        match self {
            Task::File(j) => j.id,
            Task::Opinion => OPINION_ID,
        }
    }
}

/// One worker of the pool.
#[derive(Debug, Clone)]
struct Slot<F> {
    /// Names the worker in its messages (a replaced worker gets a new key).
    key: u32,
    /// Has said it is alive: messages reach it.
    alive: bool,
    /// Was sent the model (it replaces nothing else: a new model gets new workers).
    sent: bool,
    /// Has the model.
    ready: bool,
    /// The jobs it was given, oldest (the one it works on) first; at most [`JOBS_PER_WORKER`].
    jobs: VecDeque<Task<F>>,
    /// Takes no new work and stops once idle (the pool was made smaller).
    retiring: bool,
}

/// The pool: its workers, the queue and the ids of the batch's entries.
#[derive(Debug, Clone)]
pub struct Pool<F> {
    slots: Vec<Slot<F>>,
    next_key: u32,
    /// How many workers the pool should have (0: not chosen yet).
    size: usize,
    /// The files waiting for a worker, in id order.
    queue: VecDeque<Job<F>>,
    /// Ids of entries added but not yet on the page, in order: their files wait (a job's entry
    /// must exist to be shown running).
    unshown: VecDeque<u32>,
    /// A second opinion waits for a worker.
    opinion: bool,
    /// A model was given (workers started later load it).
    model: bool,
    /// Test hook: see [`Event::CrashNext`].
    crash_next: bool,
    /// The highest entry id given so far.
    last_id: u32,
}

impl<F> Default for Pool<F> {
    fn default() -> Self {
        Pool {
            slots: Vec::new(),
            next_key: 0,
            size: 0,
            queue: VecDeque::new(),
            unshown: VecDeque::new(),
            opinion: false,
            model: false,
            crash_next: false,
            last_id: 0,
        }
    }
}

impl<F: Clone> Pool<F> {
    /// A pool of no workers and no size yet (see [`Pool::default_size`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// The size the pool has until the person chooses one ([`Event::Resize`]); ignored once
    /// it has a size.
    pub fn default_size(&mut self, n: usize) {
        if self.size == 0 {
            self.size = n.clamp(1, MAX_WORKERS);
        }
    }

    /// How many workers the pool should have (0: not chosen yet).
    pub fn size(&self) -> usize {
        self.size
    }

    /// Whether worker `key` is one of the pool's (a stopped worker's late messages are not).
    pub fn has_worker(&self, key: u32) -> bool {
        self.slots.iter().any(|s| s.key == key)
    }

    /// The pool's workers, in start order.
    pub fn workers(&self) -> Vec<u32> {
        self.slots.iter().map(|s| s.key).collect()
    }

    /// Nothing waits and no worker holds a file: the next file starts a new batch.
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.slots.iter().all(|s| s.jobs.is_empty())
    }

    /// Ids of the entries waiting in the queue, in order.
    pub fn queued(&self) -> Vec<u32> {
        self.queue.iter().map(|j| j.id).collect()
    }

    /// Ids of the jobs worker `key` holds, the one it runs first.
    pub fn held(&self, key: u32) -> Vec<u32> {
        self.slots.iter().find(|s| s.key == key).map(|s| s.jobs.iter().map(Task::id).collect()).unwrap_or_default()
    }

    /// Reserves `n` new entry ids; returns the first (ids only grow).
    pub fn new_ids(&mut self, n: u32) -> u32 {
        let first = self.last_id + 1;
        self.last_id += n;
        first
    }

    /// Entries up to `id` exist (a restored session): new ids come after them.
    pub fn ids_taken(&mut self, id: u32) {
        self.last_id = self.last_id.max(id);
    }

    /// Takes `event`; returns what the page must do, in order.
    pub fn handle(&mut self, event: Event<F>) -> Vec<Command<F>> {
        let mut out = Vec::new();
        match event {
            Event::Start => self.fill(&mut out),
            Event::StartFailed { key } => self.slots.retain(|s| s.key != key),
            Event::Resize(n) => {
                self.size = n.clamp(1, MAX_WORKERS);
                let mut active = 0;
                for slot in self.slots.iter_mut().filter(|s| !s.retiring) {
                    active += 1;
                    if active > self.size {
                        slot.retiring = true;
                    }
                }
                self.retire_idle(&mut out);
                if self.model {
                    self.fill(&mut out);
                }
                self.pump(&mut out);
            }
            Event::ModelGiven => {
                // The jobs of the workers that stop go back to the front of the queue.
                let held: Vec<Task<F>> = self.slots.iter_mut().flat_map(|s| s.jobs.drain(..)).collect();
                self.unhold(held);
                // Workers that hold another model stop; fresh ones (started with the page) get this one.
                self.slots.retain(|s| {
                    if s.sent {
                        out.push(Command::StopWorker { key: s.key });
                    }
                    !s.sent
                });
                self.model = true;
                self.fill(&mut out);
                for slot in self.slots.iter_mut().filter(|s| s.alive) {
                    slot.sent = true;
                    out.push(Command::SendModel { key: slot.key });
                }
            }
            Event::ModelInvalid => {
                out.extend(self.slots.drain(..).map(|s| Command::StopWorker { key: s.key }));
                self.model = false;
                out.push(self.drop_queue(true, Dropped::NoModel));
            }
            Event::Alive { key } => {
                let model = self.model;
                if let Some(slot) = self.slot_mut(key) {
                    slot.alive = true;
                    if model && !slot.sent {
                        slot.sent = true;
                        out.push(Command::SendModel { key });
                    }
                }
            }
            Event::Loaded { key } => {
                if let Some(slot) = self.slot_mut(key) {
                    slot.ready = true;
                }
                self.pump(&mut out);
            }
            Event::LoadFailed => {
                for slot in &mut self.slots {
                    slot.ready = false;
                }
                out.push(self.drop_queue(true, Dropped::NoModel));
            }
            Event::Answered { key, id } => {
                if let Some(slot) = self.slot_mut(key) {
                    if let Some(pos) = slot.jobs.iter().position(|t| t.id() == id) {
                        if let Some(Task::File(job)) = slot.jobs.remove(pos) {
                            out.push(Command::Finished { id, file: job.file });
                        }
                        // The worker's next job, which it starts now, is shown as running.
                        if let Some(Task::File(next)) = slot.jobs.front() {
                            out.push(Command::MarkRunning(next.id));
                        }
                    }
                }
                self.pump(&mut out);
            }
            Event::Crashed { key } => self.crashed(key, &mut out),
            Event::FilesAdded { files, no_model } => {
                for file in files {
                    let id = self.new_ids(1);
                    self.unshown.push_back(id);
                    if no_model {
                        out.push(Command::NewEntry { id, file, error: Some(NO_MODEL) });
                    } else {
                        self.queue.push_back(Job { id, file: file.clone(), point: None });
                        out.push(Command::NewEntry { id, file, error: None });
                    }
                }
            }
            Event::Shown(n) => {
                self.unshown.drain(..n.min(self.unshown.len()));
                self.pump(&mut out);
            }
            Event::Requeue(items) => {
                self.queue.extend(items.into_iter().map(|(id, file)| Job { id, file, point: None }));
                self.queue.make_contiguous().sort_by_key(|j| j.id);
                self.pump(&mut out);
            }
            Event::CellAt { id, file, point } => {
                self.queue.push_back(Job { id, file, point: Some(point) });
                self.pump(&mut out);
            }
            Event::Cancel => out.push(self.drop_queue(false, Dropped::Cancelled)),
            Event::Clear => {
                out.push(self.drop_queue(false, Dropped::Cancelled));
                self.unshown.clear();
            }
            Event::OpinionAsked => {
                self.opinion = true;
                self.pump(&mut out);
            }
            Event::CrashNext => self.crash_next = true,
        }
        out
    }

    fn slot_mut(&mut self, key: u32) -> Option<&mut Slot<F>> {
        self.slots.iter_mut().find(|s| s.key == key)
    }

    /// Starts workers until the pool has its size (retiring ones do not count). Each is sent
    /// the model when it says it is alive: messages posted before its wasm has started would
    /// be lost.
    fn fill(&mut self, out: &mut Vec<Command<F>>) {
        while self.slots.iter().filter(|s| !s.retiring).count() < self.size {
            self.next_key += 1;
            let key = self.next_key;
            self.slots.push(Slot { key, alive: false, sent: false, ready: false, jobs: VecDeque::new(), retiring: false });
            out.push(Command::StartWorker { key });
        }
    }

    /// Stops the retiring workers that are idle.
    fn retire_idle(&mut self, out: &mut Vec<Command<F>>) {
        self.slots.retain(|s| {
            let stop = s.retiring && s.jobs.is_empty();
            if stop {
                out.push(Command::StopWorker { key: s.key });
            }
            !stop
        });
    }

    /// Puts jobs taken from stopped workers back at the front of the queue, in id order (the
    /// Learn tab's opinion is not a queued file: it is dropped).
    fn unhold(&mut self, held: Vec<Task<F>>) {
        let mut jobs: Vec<Job<F>> = held
            .into_iter()
            .filter_map(|t| match t {
                Task::File(j) => Some(j),
                Task::Opinion => None,
            })
            .collect();
        jobs.sort_unstable_by_key(|j| j.id);
        for job in jobs.into_iter().rev() {
            self.queue.push_front(job);
        }
    }

    /// Empties the queue (and, with `busy`, forgets the files the workers hold).
    fn drop_queue(&mut self, busy: bool, why: Dropped) -> Command<F> {
        let mut ids: Vec<u32> = self.queue.drain(..).map(|j| j.id).collect();
        if busy {
            let held = self.slots.iter_mut().flat_map(|s| s.jobs.drain(..));
            ids.extend(held.filter_map(|t| match t {
                Task::File(j) => Some(j.id),
                Task::Opinion => None,
            }));
        }
        Command::Drop { ids, why }
    }

    /// Worker `key` died: the file it ran fails (an opinion is answered), the one waiting
    /// behind it goes back to the queue, and a new worker takes its place.
    fn crashed(&mut self, key: u32, out: &mut Vec<Command<F>>) {
        let Some(pos) = self.slots.iter().position(|s| s.key == key) else { return };
        let mut slot = self.slots.remove(pos);
        if slot.jobs.iter().any(|t| matches!(t, Task::Opinion)) {
            out.push(Command::OpinionFailed { message: OPINION_CRASHED });
        }
        out.push(Command::StopWorker { key });
        if let Some(running) = slot.jobs.pop_front() {
            let waiting: Vec<Task<F>> = slot.jobs.drain(..).collect();
            self.unhold(waiting);
            if let Task::File(job) = running {
                out.push(Command::MarkFailed { id: job.id, message: CRASHED });
            }
        }
        self.fill(out);
        self.pump(out);
    }

    /// A worker that has the model and room for a job, the one with the fewest first (the
    /// first in start order among equals), if any.
    fn idle_slot(&self) -> Option<usize> {
        (0..self.slots.len())
            .filter(|&i| {
                let s = &self.slots[i];
                s.ready && !s.retiring && s.jobs.len() < JOBS_PER_WORKER
            })
            .min_by_key(|&i| self.slots[i].jobs.len())
    }

    /// Gives work to every idle worker: the Learn tab's opinion first, then the queue in order.
    fn pump(&mut self, out: &mut Vec<Command<F>>) {
        self.retire_idle(out);
        if self.opinion {
            if let Some(i) = self.idle_slot() {
                self.opinion = false;
                self.slots[i].jobs.push_back(Task::Opinion);
                out.push(Command::SendOpinion { key: self.slots[i].key });
            }
        }
        loop {
            // Ids only grow, so the next queued file is on the page unless it is at or past
            // the first entry not yet shown.
            let shown = |id: u32| self.unshown.front().is_none_or(|u| id < *u);
            if !self.queue.front().is_some_and(|j| shown(j.id)) {
                return;
            }
            let Some(i) = self.idle_slot() else { return };
            let Some(job) = self.queue.pop_front() else { return };
            let slot = &mut self.slots[i];
            if std::mem::take(&mut self.crash_next) {
                out.push(Command::ArmCrash { key: slot.key });
            }
            // Queued behind another job, it runs once that one is answered.
            out.push(if slot.jobs.is_empty() { Command::MarkRunning(job.id) } else { Command::MarkQueued(job.id) });
            slot.jobs.push_back(Task::File(job.clone()));
            out.push(Command::SendJob { key: slot.key, job });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type C = Command<&'static str>;

    /// A pool of `n` workers with the model, every worker alive and loaded; the commands of
    /// getting there are dropped.
    fn ready_pool(n: usize) -> Pool<&'static str> {
        let mut p = Pool::new();
        p.default_size(n);
        p.handle(Event::Start);
        p.handle(Event::ModelGiven);
        for key in p.workers() {
            p.handle(Event::Alive { key });
            p.handle(Event::Loaded { key });
        }
        p
    }

    /// Adds `files` and shows them all; returns the commands of showing them.
    fn add(p: &mut Pool<&'static str>, files: &[&'static str]) -> Vec<C> {
        p.handle(Event::FilesAdded { files: files.to_vec(), no_model: false });
        p.handle(Event::Shown(files.len()))
    }

    /// `(worker, id)` of every job sent.
    fn sent(cmds: &[C]) -> Vec<(u32, u32)> {
        cmds.iter()
            .filter_map(|c| match c {
                Command::SendJob { key, job } => Some((*key, job.id)),
                _ => None,
            })
            .collect()
    }

    fn stopped(cmds: &[C]) -> Vec<u32> {
        cmds.iter()
            .filter_map(|c| match c {
                Command::StopWorker { key } => Some(*key),
                _ => None,
            })
            .collect()
    }

    fn started(cmds: &[C]) -> Vec<u32> {
        cmds.iter()
            .filter_map(|c| match c {
                Command::StartWorker { key } => Some(*key),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn start_starts_the_pools_size_of_workers() {
        let mut p: Pool<&str> = Pool::new();
        p.default_size(3);
        assert_eq!(p.handle(Event::Start), vec![C::StartWorker { key: 1 }, C::StartWorker { key: 2 }, C::StartWorker { key: 3 }]);
        assert_eq!(p.handle(Event::Start), vec![], "a full pool starts nothing");
    }

    #[test]
    fn default_size_is_clamped_and_does_not_override_a_chosen_size() {
        let mut p: Pool<&str> = Pool::new();
        p.default_size(0);
        assert_eq!(p.size(), 1);
        let mut p: Pool<&str> = Pool::new();
        p.default_size(99);
        assert_eq!(p.size(), MAX_WORKERS);
        p.handle(Event::Resize(2));
        p.default_size(5);
        assert_eq!(p.size(), 2);
    }

    #[test]
    fn a_worker_that_failed_to_start_is_no_slot() {
        let mut p: Pool<&str> = Pool::new();
        p.default_size(2);
        p.handle(Event::Start);
        p.handle(Event::StartFailed { key: 2 });
        assert_eq!(p.workers(), vec![1]);
    }

    #[test]
    fn the_model_is_sent_to_a_worker_once_it_is_alive_and_only_once() {
        let mut p: Pool<&str> = Pool::new();
        p.default_size(2);
        p.handle(Event::Start);
        // Worker 1 is alive before the model is given; worker 2 after.
        assert_eq!(p.handle(Event::Alive { key: 1 }), vec![], "no model yet");
        assert_eq!(p.handle(Event::ModelGiven), vec![C::SendModel { key: 1 }]);
        assert_eq!(p.handle(Event::Alive { key: 2 }), vec![C::SendModel { key: 2 }]);
        assert_eq!(p.handle(Event::Alive { key: 2 }), vec![], "sent once");
    }

    #[test]
    fn files_wait_until_a_worker_has_the_model() {
        let mut p: Pool<&str> = Pool::new();
        p.default_size(1);
        p.handle(Event::Start);
        p.handle(Event::ModelGiven);
        assert_eq!(sent(&add(&mut p, &["a", "b"])), vec![]);
        assert_eq!(p.handle(Event::Alive { key: 1 }), vec![C::SendModel { key: 1 }]);
        let out = p.handle(Event::Loaded { key: 1 });
        assert_eq!(sent(&out), vec![(1, 1), (1, 2)]);
    }

    #[test]
    fn each_worker_holds_two_jobs_and_no_more_the_first_running() {
        let mut p = ready_pool(1);
        let out = add(&mut p, &["a", "b", "c"]);
        assert_eq!(
            out,
            vec![
                C::MarkRunning(1),
                C::SendJob { key: 1, job: Job { id: 1, file: "a", point: None } },
                C::MarkQueued(2),
                C::SendJob { key: 1, job: Job { id: 2, file: "b", point: None } },
            ]
        );
        assert_eq!(p.held(1), vec![1, 2]);
        assert_eq!(p.queued(), vec![3]);
    }

    #[test]
    fn files_go_to_the_worker_holding_the_fewest_first_in_start_order() {
        let mut p = ready_pool(3);
        let out = add(&mut p, &["a", "b", "c", "d", "e"]);
        assert_eq!(sent(&out), vec![(1, 1), (2, 2), (3, 3), (1, 4), (2, 5)]);
        let running: Vec<&C> = out.iter().filter(|c| matches!(c, C::MarkRunning(_))).collect();
        assert_eq!(running, vec![&C::MarkRunning(1), &C::MarkRunning(2), &C::MarkRunning(3)]);
    }

    #[test]
    fn a_job_is_sent_as_soon_as_a_slot_frees_and_the_waiting_one_is_shown_running() {
        let mut p = ready_pool(1);
        add(&mut p, &["a", "b", "c"]);
        let out = p.handle(Event::Answered { key: 1, id: 1 });
        assert_eq!(
            out,
            vec![
                C::Finished { id: 1, file: "a" },
                C::MarkRunning(2),
                C::MarkQueued(3),
                C::SendJob { key: 1, job: Job { id: 3, file: "c", point: None } },
            ]
        );
        assert!(!p.is_idle());
        p.handle(Event::Answered { key: 1, id: 2 });
        p.handle(Event::Answered { key: 1, id: 3 });
        assert!(p.is_idle());
    }

    #[test]
    fn an_answer_for_a_job_the_worker_does_not_hold_frees_nothing_but_still_pumps() {
        let mut p = ready_pool(1);
        add(&mut p, &["a", "b", "c"]);
        let out = p.handle(Event::Answered { key: 1, id: 3 });
        assert_eq!(out, vec![], "nothing finished, no room");
        assert_eq!(p.held(1), vec![1, 2]);
        assert_eq!(p.handle(Event::Answered { key: 7, id: 1 }), vec![], "an unknown worker");
    }

    #[test]
    fn files_not_yet_on_the_page_are_held_back() {
        let mut p = ready_pool(2);
        p.handle(Event::FilesAdded { files: vec!["a", "b", "c"], no_model: false });
        // A worker has room, but no entry is shown yet.
        assert_eq!(sent(&p.handle(Event::Loaded { key: 1 })), vec![]);
        assert_eq!(sent(&p.handle(Event::Shown(1))), vec![(1, 1)]);
        assert_eq!(sent(&p.handle(Event::Shown(2))), vec![(2, 2), (1, 3)]);
    }

    #[test]
    fn new_entries_get_growing_ids_after_those_taken() {
        let mut p: Pool<&str> = Pool::new();
        p.ids_taken(40);
        let out = p.handle(Event::FilesAdded { files: vec!["a", "b"], no_model: false });
        assert_eq!(out, vec![C::NewEntry { id: 41, file: "a", error: None }, C::NewEntry { id: 42, file: "b", error: None }]);
        assert_eq!(p.new_ids(3), 43, "the cells of a field");
        p.ids_taken(10);
        assert_eq!(p.new_ids(1), 46);
    }

    #[test]
    fn without_a_model_new_files_fail_at_once_with_no_model_and_are_not_queued() {
        let mut p = ready_pool(1);
        let out = p.handle(Event::FilesAdded { files: vec!["a"], no_model: true });
        assert_eq!(out, vec![C::NewEntry { id: 1, file: "a", error: Some(NO_MODEL) }]);
        assert_eq!(sent(&p.handle(Event::Shown(1))), vec![]);
        assert!(p.is_idle());
    }

    #[test]
    fn a_crash_fails_the_running_job_requeues_the_waiting_one_and_starts_a_replacement() {
        let mut p = ready_pool(2);
        add(&mut p, &["a", "b", "c", "d", "e"]);
        assert_eq!(p.held(1), vec![1, 3]);
        let out = p.handle(Event::Crashed { key: 1 });
        assert_eq!(out[..3], [C::StopWorker { key: 1 }, C::MarkFailed { id: 1, message: CRASHED }, C::StartWorker { key: 3 }]);
        assert_eq!(out.len(), 3, "worker 2 is full, the new one has no model yet");
        assert!(!p.has_worker(1));
        // The waiting file goes back to the front of the queue, before those never sent.
        assert_eq!(p.queued(), vec![3, 5]);
        // The replacement gets the model, then the file that waited.
        assert_eq!(p.handle(Event::Alive { key: 3 }), vec![C::SendModel { key: 3 }]);
        assert_eq!(sent(&p.handle(Event::Loaded { key: 3 })), vec![(3, 3), (3, 5)]);
    }

    #[test]
    fn a_crash_of_an_idle_or_unknown_worker_only_replaces_it() {
        let mut p = ready_pool(1);
        assert_eq!(p.handle(Event::Crashed { key: 1 }), vec![C::StopWorker { key: 1 }, C::StartWorker { key: 2 }]);
        assert_eq!(p.handle(Event::Crashed { key: 1 }), vec![], "already gone");
    }

    #[test]
    fn a_crash_starts_a_replacement_even_before_a_model_is_given() {
        let mut p: Pool<&str> = Pool::new();
        p.default_size(1);
        p.handle(Event::Start);
        assert_eq!(p.handle(Event::Crashed { key: 1 }), vec![C::StopWorker { key: 1 }, C::StartWorker { key: 2 }]);
    }

    #[test]
    fn a_crash_of_a_retiring_worker_is_not_replaced() {
        let mut p = ready_pool(2);
        add(&mut p, &["a", "b", "c"]);
        p.handle(Event::Resize(1));
        let out = p.handle(Event::Crashed { key: 2 });
        assert!(started(&out).is_empty(), "{out:?}");
        assert_eq!(p.workers(), vec![1]);
    }

    #[test]
    fn the_crash_hook_arms_the_worker_that_gets_the_next_file() {
        let mut p = ready_pool(2);
        p.handle(Event::CrashNext);
        let out = add(&mut p, &["a", "b"]);
        assert_eq!(out[0], C::ArmCrash { key: 1 });
        assert_eq!(out.iter().filter(|c| matches!(c, C::ArmCrash { .. })).count(), 1, "only the next file");
        // Armed without a file to send, it waits for one.
        let mut p = ready_pool(1);
        p.handle(Event::CrashNext);
        p.handle(Event::Loaded { key: 1 });
        assert_eq!(add(&mut p, &["a"])[0], C::ArmCrash { key: 1 });
    }

    #[test]
    fn growing_starts_workers_once_a_model_was_given() {
        let mut p: Pool<&str> = Pool::new();
        p.default_size(1);
        p.handle(Event::Start);
        assert!(started(&p.handle(Event::Resize(3))).is_empty(), "no model yet");
        assert_eq!(p.workers(), vec![1]);
        let mut p = ready_pool(1);
        assert_eq!(started(&p.handle(Event::Resize(3))), vec![2, 3]);
        assert_eq!(p.size(), 3);
    }

    #[test]
    fn resize_is_clamped_to_one_to_max_workers() {
        let mut p = ready_pool(1);
        p.handle(Event::Resize(0));
        assert_eq!(p.size(), 1);
        p.handle(Event::Resize(100));
        assert_eq!(p.size(), MAX_WORKERS);
        assert_eq!(p.workers().len(), MAX_WORKERS);
    }

    #[test]
    fn shrinking_stops_idle_surplus_workers_at_once_and_busy_ones_after_their_jobs() {
        let mut p = ready_pool(4);
        // Workers 1 and 2 get a file each; 3 and 4 are idle.
        add(&mut p, &["a", "b"]);
        let out = p.handle(Event::Resize(1));
        assert_eq!(stopped(&out), vec![3, 4]);
        assert_eq!(p.workers(), vec![1, 2]);
        // Worker 2 retires: it takes no new file.
        assert_eq!(sent(&add(&mut p, &["c", "d"])), vec![(1, 3)]);
        let out = p.handle(Event::Answered { key: 2, id: 2 });
        assert_eq!(stopped(&out), vec![2], "stops once idle");
        assert_eq!(p.workers(), vec![1]);
    }

    #[test]
    fn shrinking_keeps_the_first_workers_and_growing_again_does_not_count_retiring_ones() {
        let mut p = ready_pool(3);
        add(&mut p, &["a", "b", "c"]);
        p.handle(Event::Resize(1));
        assert_eq!(p.workers(), vec![1, 2, 3], "all busy: they finish first");
        let out = p.handle(Event::Resize(2));
        assert_eq!(started(&out), vec![4], "2 and 3 still retire");
        p.handle(Event::Answered { key: 2, id: 2 });
        p.handle(Event::Answered { key: 3, id: 3 });
        assert_eq!(p.workers(), vec![1, 4]);
    }

    #[test]
    fn cancel_drops_the_queue_and_lets_the_workers_finish_theirs() {
        let mut p = ready_pool(1);
        add(&mut p, &["a", "b", "c", "d"]);
        assert_eq!(p.handle(Event::Cancel), vec![C::Drop { ids: vec![3, 4], why: Dropped::Cancelled }]);
        assert_eq!(p.held(1), vec![1, 2]);
        assert!(p.queued().is_empty());
        let out = p.handle(Event::Answered { key: 1, id: 1 });
        assert_eq!(out, vec![C::Finished { id: 1, file: "a" }, C::MarkRunning(2)]);
        assert_eq!(p.handle(Event::Cancel), vec![C::Drop { ids: vec![], why: Dropped::Cancelled }], "said even when empty");
    }

    #[test]
    fn clear_cancels_and_forgets_entries_not_yet_shown() {
        let mut p = ready_pool(1);
        add(&mut p, &["a", "b", "c"]);
        p.handle(Event::FilesAdded { files: vec!["d"], no_model: false });
        assert_eq!(p.handle(Event::Clear), vec![C::Drop { ids: vec![3, 4], why: Dropped::Cancelled }]);
        // Entries added later are held back only until shown, not by the forgotten ones.
        p.handle(Event::Answered { key: 1, id: 1 });
        p.handle(Event::Answered { key: 1, id: 2 });
        p.handle(Event::FilesAdded { files: vec!["e"], no_model: false });
        assert_eq!(sent(&p.handle(Event::Shown(1))), vec![(1, 5)]);
    }

    #[test]
    fn requeued_entries_join_the_queue_in_id_order() {
        let mut p: Pool<&str> = Pool::new();
        p.default_size(1);
        p.handle(Event::Start);
        p.handle(Event::FilesAdded { files: vec!["x", "y"], no_model: false });
        p.handle(Event::Shown(2));
        p.handle(Event::Requeue(vec![(9, "r9"), (0, "r0")]));
        assert_eq!(p.queued(), vec![0, 1, 2, 9]);
    }

    #[test]
    fn requeue_sends_at_once_when_a_worker_has_room() {
        let mut p = ready_pool(1);
        let out = p.handle(Event::Requeue(vec![(5, "f")]));
        assert_eq!(out, vec![C::MarkRunning(5), C::SendJob { key: 1, job: Job { id: 5, file: "f", point: None } }]);
    }

    #[test]
    fn a_click_on_a_field_is_a_job_with_its_point() {
        let mut p = ready_pool(1);
        let id = p.new_ids(1);
        let point = Point { x: 10.0, y: 20.0, nucleus: Some(30.0) };
        let out = p.handle(Event::CellAt { id, file: "field", point });
        assert_eq!(out, vec![C::MarkRunning(1), C::SendJob { key: 1, job: Job { id: 1, file: "field", point: Some(point) } }]);
    }

    #[test]
    fn an_invalid_model_stops_every_worker_and_fails_the_queue() {
        let mut p = ready_pool(1);
        add(&mut p, &["a", "b", "c"]);
        let out = p.handle(Event::ModelInvalid);
        // The workers are stopped first, so the files they held are neither failed nor queued
        // (today's behaviour, kept: their entries keep their state).
        assert_eq!(out, vec![C::StopWorker { key: 1 }, C::Drop { ids: vec![3], why: Dropped::NoModel }]);
        assert!(p.workers().is_empty());
        assert!(started(&p.handle(Event::Resize(2))).is_empty(), "no model: no workers");
        assert_eq!(started(&p.handle(Event::ModelGiven)), vec![2, 3], "a valid model starts the pool again");
    }

    #[test]
    fn a_failed_load_fails_the_queue_and_the_files_in_the_workers() {
        let mut p = ready_pool(1);
        add(&mut p, &["a", "b", "c"]);
        let out = p.handle(Event::LoadFailed);
        assert_eq!(out, vec![C::Drop { ids: vec![3, 1, 2], why: Dropped::NoModel }]);
        assert!(p.is_idle());
        assert_eq!(p.workers(), vec![1], "the workers stay");
        // The workers no longer take files.
        assert_eq!(sent(&add(&mut p, &["d"])), vec![]);
        // Until one loads a model again.
        assert_eq!(sent(&p.handle(Event::Loaded { key: 1 })), vec![(1, 4)]);
    }

    #[test]
    fn a_new_model_stops_the_workers_that_had_one_and_requeues_their_files_first() {
        let mut p: Pool<&str> = Pool::new();
        p.default_size(2);
        p.handle(Event::Start);
        p.handle(Event::ModelGiven);
        // Worker 1 loads the first model and takes files; worker 2 never says it is alive.
        p.handle(Event::Alive { key: 1 });
        p.handle(Event::Loaded { key: 1 });
        add(&mut p, &["a", "b", "c"]);
        let out = p.handle(Event::ModelGiven);
        assert_eq!(out, vec![C::StopWorker { key: 1 }, C::StartWorker { key: 3 }]);
        assert_eq!(p.workers(), vec![2, 3], "the fresh worker stays and gets the new model");
        assert_eq!(p.queued(), vec![1, 2, 3]);
        assert_eq!(p.handle(Event::Alive { key: 2 }), vec![C::SendModel { key: 2 }]);
        // A new model given while workers are alive but not sent one: sent at once.
        let mut p: Pool<&str> = Pool::new();
        p.default_size(1);
        p.handle(Event::Start);
        p.handle(Event::Alive { key: 1 });
        assert_eq!(p.handle(Event::ModelGiven), vec![C::SendModel { key: 1 }]);
    }

    #[test]
    fn the_opinion_goes_before_the_next_queued_file() {
        let mut p = ready_pool(1);
        add(&mut p, &["a", "b", "c"]);
        // The worker is full: the opinion waits, then takes the first free place.
        assert_eq!(p.handle(Event::OpinionAsked), vec![]);
        let out = p.handle(Event::Answered { key: 1, id: 1 });
        assert_eq!(out, vec![C::Finished { id: 1, file: "a" }, C::MarkRunning(2), C::SendOpinion { key: 1 }]);
        assert_eq!(p.held(1), vec![2, OPINION_ID]);
        // Running now, the opinion is not marked (it has no entry); the next file waits behind it.
        let out = p.handle(Event::Answered { key: 1, id: 2 });
        assert_eq!(
            out,
            vec![C::Finished { id: 2, file: "b" }, C::MarkQueued(3), C::SendJob { key: 1, job: Job { id: 3, file: "c", point: None } }]
        );
        // Its answer finishes no entry, and the file behind it is shown running.
        let out = p.handle(Event::Answered { key: 1, id: OPINION_ID });
        assert_eq!(out, vec![C::MarkRunning(3)]);
    }

    #[test]
    fn a_newer_opinion_request_replaces_one_not_yet_sent() {
        let mut p: Pool<&str> = Pool::new();
        p.default_size(1);
        p.handle(Event::Start);
        p.handle(Event::ModelGiven);
        p.handle(Event::OpinionAsked);
        p.handle(Event::OpinionAsked);
        p.handle(Event::Alive { key: 1 });
        let out = p.handle(Event::Loaded { key: 1 });
        assert_eq!(out, vec![C::SendOpinion { key: 1 }], "one request is sent");
    }

    #[test]
    fn a_crash_with_the_opinion_answers_it_and_drops_it() {
        let mut p = ready_pool(1);
        p.handle(Event::OpinionAsked);
        add(&mut p, &["a", "b"]);
        assert_eq!(p.held(1), vec![OPINION_ID, 1]);
        let out = p.handle(Event::Crashed { key: 1 });
        assert_eq!(out[..2], [C::OpinionFailed { message: OPINION_CRASHED }, C::StopWorker { key: 1 }]);
        assert!(!out.iter().any(|c| matches!(c, C::MarkFailed { .. })), "no entry failed: {out:?}");
        assert_eq!(p.queued(), vec![1, 2], "the file waiting behind the opinion goes back");
        // Waiting behind a file, the opinion is answered too.
        let mut p = ready_pool(1);
        add(&mut p, &["a"]);
        p.handle(Event::OpinionAsked);
        let out = p.handle(Event::Crashed { key: 1 });
        assert_eq!(
            out[..3],
            [C::OpinionFailed { message: OPINION_CRASHED }, C::StopWorker { key: 1 }, C::MarkFailed { id: 1, message: CRASHED }]
        );
    }

    #[test]
    fn a_new_model_drops_an_opinion_held_by_a_stopped_worker() {
        let mut p = ready_pool(1);
        p.handle(Event::OpinionAsked);
        p.handle(Event::ModelGiven);
        assert!(p.queued().is_empty());
        assert!(p.is_idle());
    }
}
