//! Counting at the microscope (issue 52): the camera's live view, a captured frame taken as a
//! dropped file, and the running differential's target. What is decided (names, problems in
//! words, frames too dark, the target's words) is the core's ([`crate::capture`]); this is the
//! browser's glue: `getUserMedia`, the video, the live view's own worker, the keys.
//!
//! - A capture is a JPEG of the whole frame at the camera's resolution, named `capture-…`, given
//!   to [`engine::enqueue`] like a dropped file: it is stored as it arrives, read by
//!   `pipeline::read_file` in a worker, and its cells join the list, the count and the exports.
//! - The live view's boxes are found in a worker of their own (`detect`, no model loaded), a
//!   frame at a time, at most [`LIVE_FPS_CAP`] a second; while files are being classified no
//!   frame is sent (it yields to the batch).
//! - The stream stops when the view closes or the tab is hidden (and starts again when the tab
//!   is shown with the view still open).

use super::engine;
use super::state::{AppState, Tab};
use super::workers;
use crate::capture::{self, Problem, Target, TARGETS};
use crate::count::reference::CountKind;
use crate::web::console;
use crate::web::protocol::{Reply, Request, BYTES};
use js_sys::{Array, Object, Promise, Reflect};
use leptos::prelude::*;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{CanvasRenderingContext2d, File, HtmlCanvasElement, HtmlVideoElement, MediaStream, MediaStreamTrack, Worker};

/// Frames a second the live view asks for at most (each waits for the last one's boxes).
const LIVE_FPS_CAP: f64 = 5.0;
/// Live frames are sent at most this many pixels on their long side (boxes scaled back).
const LIVE_MAX_SIDE: f64 = 640.0;
/// How long to wait before looking again while a batch is being classified.
const YIELD_MS: u64 = 300;
/// Where the person's choice of target is kept.
const TARGET_KEY: &str = "marrowscope-count-target";

/// The camera's state on the page; every field is a cheap `Copy` handle.
#[derive(Clone, Copy)]
pub struct Camera {
    pub open: RwSignal<bool>,
    /// `starting`, `live`, `paused` (the tab hidden), `denied`, `no-camera` or `error` (the
    /// view's `data-state`).
    pub state: RwSignal<&'static str>,
    /// What went wrong, in words (with `denied`, `no-camera`, `error`).
    pub problem: RwSignal<Option<String>>,
    /// What the last capture or frame said ("captured …", "too dark …").
    pub notice: RwSignal<Option<String>>,
    /// The last live frame is too dark to find cells in.
    pub dark: RwSignal<bool>,
    /// Cameras `(deviceId, label)`, once the permission is given.
    pub devices: RwSignal<Vec<(String, String)>>,
    pub device: RwSignal<Option<String>>,
    /// The live frame's white cells, `[x, y, w, h]` in the video's pixels.
    pub boxes: RwSignal<Vec<[u32; 4]>>,
    /// The video's size in pixels.
    pub frame: RwSignal<(u32, u32)>,
    /// Live frames answered a second (recent average), and how many in all.
    pub fps: RwSignal<f64>,
    pub frames: RwSignal<u32>,
    /// The live boxes wait while a batch is being classified.
    pub yielding: RwSignal<bool>,
    /// Frames captured in this page.
    pub captures: RwSignal<u32>,
    /// The differential's target the person chose (`None`: by the count's kind).
    pub target: RwSignal<Option<u32>>,
}

#[derive(Default)]
struct Live {
    cam: Option<Camera>,
    stream: Option<MediaStream>,
    video: Option<HtmlVideoElement>,
    worker: Option<Worker>,
    /// Changes whenever the stream starts or stops: answers and timers of an older one are dropped.
    generation: u32,
    in_flight: bool,
    sent_at: f64,
    last_answer: f64,
    /// Video pixels per pixel of the frame sent.
    scale: f64,
    canvas: Option<HtmlCanvasElement>,
    /// The tab was hidden with the view open: start again when it is shown.
    resume: bool,
}

thread_local! {
    static LIVE: RefCell<Live> = RefCell::new(Live::default());
}

fn with<R>(f: impl FnOnce(&mut Live) -> R) -> R {
    LIVE.with(|l| f(&mut l.borrow_mut()))
}

fn now() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or_else(js_sys::Date::now)
}

fn stored_target() -> Option<u32> {
    let s = web_sys::window()?.local_storage().ok()??;
    Target::parse(&s.get_item(TARGET_KEY).ok()??)
}

/// Makes the camera's state and shares it through the context; listens for the tab being
/// hidden or shown.
pub fn provide() {
    let cam = Camera {
        open: RwSignal::new(false),
        state: RwSignal::new("starting"),
        problem: RwSignal::new(None),
        notice: RwSignal::new(None),
        dark: RwSignal::new(false),
        devices: RwSignal::new(Vec::new()),
        device: RwSignal::new(None),
        boxes: RwSignal::new(Vec::new()),
        frame: RwSignal::new((0, 0)),
        fps: RwSignal::new(0.0),
        frames: RwSignal::new(0),
        yielding: RwSignal::new(false),
        captures: RwSignal::new(0),
        target: RwSignal::new(stored_target()),
    };
    with(|l| l.cam = Some(cam));
    provide_context(cam);
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let on_visibility = Closure::<dyn FnMut()>::new(move || {
        let hidden = web_sys::window().and_then(|w| w.document()).is_some_and(|d| d.hidden());
        if hidden {
            if with(|l| l.stream.is_some()) {
                stop_stream();
                with(|l| l.resume = true);
                cam.state.set("paused");
                cam.boxes.set(Vec::new());
            }
        } else if with(|l| std::mem::take(&mut l.resume)) && cam.open.get_untracked() {
            leptos::task::spawn_local(start(cam));
        }
    });
    let _ = document.add_event_listener_with_callback("visibilitychange", on_visibility.as_ref().unchecked_ref());
    on_visibility.forget();
}

/// The browser's error name (`DOMException.name`, or an `Error`'s).
fn error_name(e: &JsValue) -> String {
    Reflect::get(e, &"name".into()).ok().and_then(|n| n.as_string()).unwrap_or_default()
}

fn fail(cam: Camera, problem: Problem) {
    cam.state.set(problem.state());
    cam.problem.set(Some(problem.message().to_string()));
    cam.boxes.set(Vec::new());
}

/// Stops the camera's tracks and the live boxes (the view may stay open, with a message).
fn stop_stream() {
    let (stream, video) = with(|l| {
        l.generation = l.generation.wrapping_add(1);
        l.in_flight = false;
        (l.stream.take(), l.video.clone())
    });
    if let Some(stream) = stream {
        for t in stream.get_tracks().iter() {
            if let Ok(t) = t.dyn_into::<MediaStreamTrack>() {
                t.set_onended(None);
                t.stop();
            }
        }
    }
    if let Some(v) = video {
        v.set_src_object(None);
    }
}

/// Opens the live view (from the Camera control).
pub fn open(cam: Camera, state: AppState) {
    state.tab.set(Tab::Classify);
    cam.open.set(true);
    leptos::task::spawn_local(start(cam));
}

/// Closes the live view: the stream stops and the live view's worker ends.
pub fn close(cam: Camera) {
    stop_stream();
    if let Some(w) = with(|l| {
        l.resume = false;
        l.worker.take()
    }) {
        w.terminate();
    }
    cam.open.set(false);
    cam.boxes.set(Vec::new());
    cam.notice.set(None);
}

/// The constraints: the highest resolution the camera offers, the rear camera on a phone, or
/// the camera the person chose.
fn constraints(device: Option<&str>) -> web_sys::MediaStreamConstraints {
    let video = Object::new();
    let ideal = |v: f64| {
        let o = Object::new();
        let _ = Reflect::set(&o, &"ideal".into(), &v.into());
        o
    };
    let _ = Reflect::set(&video, &"width".into(), &ideal(4096.0));
    let _ = Reflect::set(&video, &"height".into(), &ideal(2160.0));
    match device {
        Some(id) => {
            let exact = Object::new();
            let _ = Reflect::set(&exact, &"exact".into(), &id.into());
            let _ = Reflect::set(&video, &"deviceId".into(), &exact);
        }
        None => {
            let facing = Object::new();
            let _ = Reflect::set(&facing, &"ideal".into(), &"environment".into());
            let _ = Reflect::set(&video, &"facingMode".into(), &facing);
        }
    }
    let c = Object::new();
    let _ = Reflect::set(&c, &"audio".into(), &JsValue::FALSE);
    let _ = Reflect::set(&c, &"video".into(), &video);
    c.unchecked_into()
}

/// Asks the browser for the camera and shows it; on failure the view says why.
async fn start(cam: Camera) {
    stop_stream();
    cam.state.set("starting");
    cam.problem.set(None);
    cam.dark.set(false);
    let generation = with(|l| l.generation);
    let Some(devices) = web_sys::window().and_then(|w| w.navigator().media_devices().ok()) else {
        return fail(cam, Problem::Unsupported);
    };
    let promise = match devices.get_user_media_with_constraints(&constraints(cam.device.get_untracked().as_deref())) {
        Ok(p) => p,
        Err(e) => return fail(cam, Problem::from_error_name(&error_name(&e))),
    };
    let stream: MediaStream = match JsFuture::from(promise).await {
        Ok(s) => s.unchecked_into(),
        Err(e) => {
            console::warn("camera", &format!("getUserMedia failed: {} {:?}", error_name(&e), e.as_string()));
            return fail(cam, Problem::from_error_name(&error_name(&e)));
        }
    };
    // Closed, or started again, while the browser asked.
    if with(|l| l.generation) != generation || !cam.open.get_untracked() {
        for t in stream.get_tracks().iter() {
            if let Ok(t) = t.dyn_into::<MediaStreamTrack>() {
                t.stop();
            }
        }
        return;
    }
    // Unplugged or taken by another program while the view is open.
    for t in stream.get_video_tracks().iter() {
        if let Ok(t) = t.dyn_into::<MediaStreamTrack>() {
            let on_ended = Closure::<dyn FnMut()>::new(move || {
                if with(|l| l.generation) == generation {
                    stop_stream();
                    fail(cam, Problem::Lost);
                }
            });
            t.set_onended(Some(on_ended.as_ref().unchecked_ref()));
            on_ended.forget();
        }
    }
    // `Clone::clone`, not `stream.clone()`: that is `MediaStream.clone()`, a new stream with new tracks.
    with(|l| l.stream = Some(Clone::clone(&stream)));
    let Some(video) = with(|l| l.video.clone()) else { return fail(cam, Problem::Other) };
    video.set_muted(true);
    video.set_src_object(Some(&stream));
    if let Ok(p) = video.play() {
        let _ = JsFuture::from(p).await;
    }
    if with(|l| l.generation) != generation {
        return;
    }
    // The first frame gives the video its size.
    for _ in 0..50 {
        if video.video_width() > 0 {
            break;
        }
        sleep(50).await;
    }
    cam.frame.set((video.video_width(), video.video_height()));
    cam.state.set("live");
    list_devices(cam).await;
    if let Some(el) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("camera-view")) {
        if let Ok(h) = el.dyn_into::<web_sys::HtmlElement>() {
            let _ = h.focus();
        }
    }
    live_tick(generation);
}

async fn sleep(ms: i32) {
    let p = Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(p).await;
}

/// The cameras there are (their names are given once the permission is).
async fn list_devices(cam: Camera) {
    let Some(devices) = web_sys::window().and_then(|w| w.navigator().media_devices().ok()) else { return };
    let Ok(p) = devices.enumerate_devices() else { return };
    let Ok(list) = JsFuture::from(p).await else { return };
    let cams: Vec<(String, String)> = Array::from(&list)
        .iter()
        .filter_map(|d| d.dyn_into::<web_sys::MediaDeviceInfo>().ok())
        .filter(|d| d.kind() == web_sys::MediaDeviceKind::Videoinput)
        .enumerate()
        .map(|(k, d)| {
            let label = d.label();
            (d.device_id(), if label.is_empty() { format!("Camera {}", k + 1) } else { label })
        })
        .collect();
    cam.devices.set(cams);
}

// ---------------------------------------------------------------------------------------------
// The live boxes

fn live_worker() -> Option<Worker> {
    if let Some(w) = with(|l| l.worker.clone()) {
        return Some(w);
    }
    let worker = match workers::start_unpooled() {
        Ok(w) => w,
        Err(e) => {
            console::warn("camera", &e);
            return None;
        }
    };
    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| on_boxes(ev.data()));
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_ev: web_sys::Event| {
        // A new worker is started for the next frame.
        with(|l| {
            l.worker = None;
            l.in_flight = false;
        });
    });
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
    with(|l| l.worker = Some(worker.clone()));
    Some(worker)
}

fn schedule(generation: u32, ms: u64) {
    set_timeout(move || live_tick(generation), std::time::Duration::from_millis(ms));
}

/// Sends the video's current frame to the live view's worker, unless a batch is being
/// classified (then looks again a moment later), or the last frame is still being read.
fn live_tick(generation: u32) {
    let Some(cam) = with(|l| l.cam) else { return };
    if with(|l| l.generation != generation || l.in_flight) || cam.state.get_untracked() != "live" {
        return;
    }
    if engine::busy() {
        if !cam.yielding.get_untracked() {
            cam.yielding.set(true);
            cam.boxes.set(Vec::new());
        }
        return schedule(generation, YIELD_MS);
    }
    if cam.yielding.get_untracked() {
        cam.yielding.set(false);
    }
    match send_frame(generation) {
        Ok(()) => {}
        Err(e) => {
            console::warn("camera", &e);
            schedule(generation, YIELD_MS);
        }
    }
}

fn canvas() -> Option<HtmlCanvasElement> {
    if let Some(c) = with(|l| l.canvas.clone()) {
        return Some(c);
    }
    let c: HtmlCanvasElement = web_sys::window()?.document()?.create_element("canvas").ok()?.dyn_into().ok()?;
    with(|l| l.canvas = Some(c.clone()));
    Some(c)
}

fn context_2d(c: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    let opts = Object::new();
    let _ = Reflect::set(&opts, &"willReadFrequently".into(), &JsValue::TRUE);
    c.get_context_with_context_options("2d", &opts).ok()??.dyn_into().ok()
}

fn send_frame(generation: u32) -> Result<(), String> {
    let video = with(|l| l.video.clone()).ok_or("no video")?;
    let (vw, vh) = (video.video_width() as f64, video.video_height() as f64);
    if vw < 1.0 || vh < 1.0 {
        return Err("the video has no frame yet".into());
    }
    let s = (LIVE_MAX_SIDE / vw.max(vh)).min(1.0);
    let (w, h) = ((vw * s).round().max(1.0), (vh * s).round().max(1.0));
    let canvas = canvas().ok_or("no canvas")?;
    canvas.set_width(w as u32);
    canvas.set_height(h as u32);
    let ctx = context_2d(&canvas).ok_or("no 2d context")?;
    ctx.draw_image_with_html_video_element_and_dw_and_dh(&video, 0.0, 0.0, w, h).map_err(|e| format!("{e:?}"))?;
    let data = ctx.get_image_data(0.0, 0.0, w, h).map_err(|e| format!("{e:?}"))?;
    // The pixels' own buffer, handed over without a copy.
    let pixels = Reflect::get(&data, &"data".into()).map_err(|e| format!("{e:?}"))?;
    let buffer = Reflect::get(&pixels, &"buffer".into()).map_err(|e| format!("{e:?}"))?;
    let worker = live_worker().ok_or("the camera's worker could not start")?;
    let msg = workers::message(&Request::Detect { id: generation, width: w as u32, height: h as u32 }, Some((BYTES, &buffer)))?;
    worker.post_message_with_transfer(&msg, &Array::of1(&buffer)).map_err(|e| format!("{e:?}"))?;
    with(|l| {
        l.in_flight = true;
        l.sent_at = now();
        l.scale = 1.0 / s;
    });
    Ok(())
}

/// The live view's worker answered.
fn on_boxes(data: JsValue) {
    let Ok(reply) = serde_wasm_bindgen::from_value::<Reply>(data) else { return };
    let Some(cam) = with(|l| l.cam) else { return };
    let (id, boxes, too_dark) = match reply {
        Reply::Boxes { id, boxes, too_dark, .. } => (id, boxes, too_dark),
        Reply::Failed { id, message } => {
            console::warn("camera", &message);
            (id, Vec::new(), false)
        }
        _ => return,
    };
    let (generation, sent_at, last, scale) = with(|l| {
        l.in_flight = false;
        let last = l.last_answer;
        l.last_answer = now();
        (l.generation, l.sent_at, last, l.scale)
    });
    if id != generation {
        return;
    }
    let t = now();
    if last > 0.0 && t > last {
        let fps = 1000.0 / (t - last);
        let old = cam.fps.get_untracked();
        cam.fps.set(if old == 0.0 || cam.yielding.get_untracked() { fps } else { 0.7 * old + 0.3 * fps });
    }
    cam.frames.update(|n| *n += 1);
    cam.dark.set(too_dark);
    let sc = |v: u32| (v as f64 * scale).round() as u32;
    cam.boxes.set(boxes.into_iter().map(|[x, y, w, h]| [sc(x), sc(y), sc(w), sc(h)]).collect());
    let wait = (1000.0 / LIVE_FPS_CAP - (t - sent_at)).max(0.0) as u64;
    schedule(generation, wait);
}

// ---------------------------------------------------------------------------------------------
// Capture

/// The name of a frame captured now (local time).
fn name_now() -> String {
    let d = js_sys::Date::new_0();
    capture::capture_name(
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds(),
        d.get_milliseconds(),
    )
}

/// Whether the video's current frame is too dark to find cells in (read on a small copy).
fn frame_too_dark(video: &HtmlVideoElement) -> bool {
    let Some(c) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("canvas").ok())
        .and_then(|c| c.dyn_into::<HtmlCanvasElement>().ok())
    else {
        return false;
    };
    c.set_width(64);
    c.set_height(48);
    let Some(ctx) = context_2d(&c) else { return false };
    if ctx.draw_image_with_html_video_element_and_dw_and_dh(video, 0.0, 0.0, 64.0, 48.0).is_err() {
        return false;
    }
    ctx.get_image_data(0.0, 0.0, 64.0, 48.0).map(|d| capture::too_dark(&d.data())).unwrap_or(false)
}

/// Captures the video's current frame at its full resolution and gives it to the batch as a
/// dropped file is given.
pub fn capture_frame(cam: Camera) {
    if cam.state.get_untracked() != "live" {
        return;
    }
    let Some(video) = with(|l| l.video.clone()) else { return };
    let (w, h) = (video.video_width(), video.video_height());
    if w == 0 || h == 0 {
        cam.notice.set(Some("The camera has not sent a picture yet: wait a moment and capture again.".into()));
        return;
    }
    if frame_too_dark(&video) {
        cam.notice.set(Some(capture::TOO_DARK.to_string()));
        return;
    }
    let name = name_now();
    let t0 = now();
    let _ = web_sys::window().and_then(|w| w.performance()).map(|p| p.mark(&format!("capture:{name}")));
    let Some(canvas) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("canvas").ok())
        .and_then(|c| c.dyn_into::<HtmlCanvasElement>().ok())
    else {
        return;
    };
    canvas.set_width(w);
    canvas.set_height(h);
    let drawn =
        context_2d(&canvas).map(|ctx| ctx.draw_image_with_html_video_element_and_dw_and_dh(&video, 0.0, 0.0, w as f64, h as f64).is_ok());
    if drawn != Some(true) {
        cam.notice.set(Some("The frame could not be captured: press Retry, or capture again.".into()));
        return;
    }
    leptos::task::spawn_local(async move {
        match jpeg(&canvas).await.and_then(|blob| {
            let opts = web_sys::FilePropertyBag::new();
            opts.set_type("image/jpeg");
            File::new_with_blob_sequence_and_options(&Array::of1(&blob), &name, &opts).map_err(|e| format!("{e:?}"))
        }) {
            Ok(file) => {
                engine::enqueue(vec![file]);
                cam.captures.update(|n| *n += 1);
                console::info("camera", &format!("captured {name} ({w}×{h}) in {:.0} ms", now() - t0));
                cam.notice.set(Some(format!("Captured {name} ({w} × {h}): its cells are being found and classified.")));
            }
            Err(e) => {
                console::warn("camera", &e);
                cam.notice.set(Some("The frame could not be captured: capture again.".into()));
            }
        }
    });
}

/// The canvas as a JPEG (quality 0.95).
async fn jpeg(canvas: &HtmlCanvasElement) -> Result<web_sys::Blob, String> {
    let canvas = canvas.clone();
    let p = Promise::new(&mut |resolve, reject| {
        let cb = Closure::once_into_js(move |b: JsValue| {
            let _ = resolve.call1(&JsValue::NULL, &b);
        });
        if canvas.to_blob_with_type_and_encoder_options(cb.unchecked_ref(), "image/jpeg", &JsValue::from(0.95)).is_err() {
            let _ = reject.call1(&JsValue::NULL, &JsValue::NULL);
        }
    });
    let b = JsFuture::from(p).await.map_err(|_| "the browser could not encode the frame".to_string())?;
    b.dyn_into::<web_sys::Blob>().map_err(|_| "the browser could not encode the frame".to_string())
}

// ---------------------------------------------------------------------------------------------
// The page

/// The Camera control and "Take a photo" (a phone's own camera), under the drop zone.
#[component]
pub fn CameraControls() -> impl IntoView {
    let state = expect_context::<AppState>();
    let cam = expect_context::<Camera>();
    let photo_ref = NodeRef::<leptos::html::Input>::new();
    let on_photo = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let files = super::input::files_of(input.files());
        if !files.is_empty() {
            engine::enqueue(files);
            state.tab.set(Tab::Classify);
        }
        input.set_value("");
    };
    view! {
        <div class="camera-controls">
            <button type="button" class="button" data-testid="camera" aria-pressed=move || cam.open.get().to_string()
                aria-controls="camera-view"
                on:click=move |_| if cam.open.get_untracked() { close(cam) } else { open(cam, state) }>
                {move || if cam.open.get() { "Close the camera" } else { "Camera" }}
            </button>
            <label for="take-photo" class="button" tabindex="0" data-testid="take-photo"
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Enter" || ev.key() == " " {
                        ev.prevent_default();
                        if let Some(i) = photo_ref.get() { i.click(); }
                    }
                }>"Take a photo"</label>
            <input id="take-photo" class="visually-hidden" type="file" accept="image/*" capture="environment"
                aria-label="Take a photo with this device's camera" node_ref=photo_ref on:change=on_photo />
        </div>
    }
}

/// The live view: the video with the white cells found in it, the capture button, the choice
/// of camera; or what went wrong, in words.
#[component]
pub fn CameraView() -> impl IntoView {
    let cam = expect_context::<Camera>();
    let video_ref = NodeRef::<leptos::html::Video>::new();
    Effect::new(move |_| {
        if let Some(v) = video_ref.get() {
            with(|l| l.video = Some(v));
        }
    });
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let tag =
            ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).map(|e| e.tag_name().to_ascii_lowercase()).unwrap_or_default();
        if matches!(tag.as_str(), "button" | "select" | "input") {
            return;
        }
        if ev.key() == " " || ev.key() == "Enter" {
            ev.prevent_default();
            ev.stop_propagation();
            capture_frame(cam);
        }
    };
    let view_box = move || {
        let (w, h) = cam.frame.get();
        format!("0 0 {} {}", w.max(1), h.max(1))
    };
    let live = move || cam.state.get() == "live";
    view! {
        <section id="camera-view" class="camera-view" data-testid="camera-view" hidden=move || !cam.open.get()
            data-state=move || cam.state.get() data-frame=move || { let (w, h) = cam.frame.get(); format!("{w}x{h}") }
            data-fps=move || format!("{:.1}", cam.fps.get()) data-frames=move || cam.frames.get().to_string() data-dark=move || cam.dark.get().to_string()
            data-yielding=move || cam.yielding.get().to_string() data-captures=move || cam.captures.get().to_string()
            tabindex="0" aria-label="Camera: Space or Enter captures the frame" on:keydown=on_key>
            <div class="camera-bar">
                <strong>"Camera"</strong>
                {move || (cam.devices.get().len() > 1).then(|| view! {
                    <label class="small">"Camera "
                        <select id="camera-device" data-testid="camera-device"
                            on:change=move |ev| { cam.device.set(Some(event_target_value(&ev))); leptos::task::spawn_local(start(cam)); }>
                            {cam.devices.get().into_iter().map(|(id, label)| {
                                let selected = cam.device.get_untracked().as_deref() == Some(id.as_str());
                                view! { <option value=id selected=selected>{label}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                })}
                <button type="button" class="button primary" data-testid="camera-capture" disabled=move || !live()
                    on:click=move |_| capture_frame(cam)>"Capture (Space)"</button>
                <button type="button" class="button" data-testid="camera-close" on:click=move |_| close(cam)>"Close"</button>
            </div>
            <div class="camera-stage" hidden=move || !live() && cam.state.get() != "starting">
                <video node_ref=video_ref class="camera-video" autoplay=true muted=true playsinline=true
                    aria-label="The camera's live picture; a click captures it" on:click=move |_| capture_frame(cam)></video>
                // Scaled as the video is (`object-fit: contain`; the SVG's default, `xMidYMid meet`).
                <svg class="live-boxes" viewBox=view_box aria-hidden="true">
                    {move || cam.boxes.get().into_iter().map(|[x, y, w, h]| view! {
                        <rect data-testid="live-box" data-box=format!("{x},{y},{w},{h}") x=x.to_string() y=y.to_string() width=w.to_string() height=h.to_string()></rect>
                    }).collect_view()}
                </svg>
            </div>
            <p class="small muted camera-status" role="status" aria-live="polite">
                {move || match cam.state.get() {
                    "starting" => "Opening the camera…".to_string(),
                    "paused" => "The camera is off while this tab is hidden.".to_string(),
                    "live" if cam.yielding.get() => "Live boxes wait while the batch is classified.".to_string(),
                    "live" => {
                        let n = cam.boxes.get().len();
                        let (w, h) = cam.frame.get();
                        format!("{w} × {h} · {n} white cell{} in view · Space, Enter or a click captures the frame", if n == 1 { "" } else { "s" })
                    }
                    _ => String::new(),
                }}
            </p>
            {move || cam.dark.get().then(|| view! { <p class="camera-dark warn" data-testid="camera-dark">{capture::TOO_DARK}</p> })}
            {move || cam.notice.get().map(|n| view! { <p class="small" data-testid="camera-message">{n}</p> })}
            {move || cam.problem.get().map(|p| view! {
                <div class="camera-problem" data-testid="camera-problem" role="alert">
                    <p>{p}</p>
                    <button type="button" class="button" data-testid="camera-retry" on:click=move |_| leptos::task::spawn_local(start(cam))>"Retry"</button>
                </div>
            })}
        </section>
    }
}

/// The running differential: its target (100, 200 or 500 white cells; by default 100 for
/// blood, 200 for marrow) and how far the count is toward it.
#[component]
pub fn CountProgress() -> impl IntoView {
    let state = expect_context::<AppState>();
    let cam = expect_context::<Camera>();
    // White cells counted: classified ones (a field's entry is not one) and those too small to classify.
    let counted = Memo::new(move |_| {
        state.cells.with(|cs| {
            let classified = cs.iter().filter(|c| c.field_info.is_none() && c.result.is_some()).count();
            let small: usize = cs.iter().filter_map(|c| c.field_info.as_ref()).map(|i| i.too_small.len()).sum();
            (classified + small, small)
        })
    });
    let kind = Memo::new(move |_| {
        state.count_kind.get().unwrap_or_else(|| {
            state.cells.with(|cells| {
                CountKind::estimate(cells.iter().filter_map(|c| c.result.as_ref()?.source.as_ref().map(|s| s.source.as_str())))
            })
        })
    });
    let progress = move || Target { n: counted.get().0, target: cam.target.get().unwrap_or_else(|| Target::default_for(kind.get())) };
    let choose = move |ev: leptos::ev::Event| {
        let v = Target::parse(&event_target_value(&ev));
        cam.target.set(v);
        if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            let _ = match v {
                Some(t) => s.set_item(TARGET_KEY, &t.to_string()),
                None => s.remove_item(TARGET_KEY),
            };
        }
    };
    view! {
        <div class="count-progress" data-testid="count-progress" class:reached=move || progress().reached()
            data-n=move || progress().n.to_string() data-target=move || progress().target.to_string()
            data-reached=move || progress().reached().to_string()>
            <label class="small">"Differential to "
                <select id="count-target" data-testid="count-target" on:change=choose aria-label="Cells to count">
                    <option value="" selected=move || cam.target.get().is_none()>
                        {move || format!("{} (for {})", Target::default_for(kind.get()), if kind.get() == CountKind::Blood { "blood" } else { "marrow" })}
                    </option>
                    {TARGETS.iter().map(|&t| view! {
                        <option value=t.to_string() selected=move || cam.target.get() == Some(t)>{t.to_string()}</option>
                    }).collect_view()}
                </select>
                " cells"
            </label>
            <progress max=move || progress().target.to_string() value=move || progress().n.min(progress().target as usize).to_string()
                aria-label="Cells counted toward the target"></progress>
            <p class="small count-progress-words" role="status" aria-live="polite">{move || progress().words()}</p>
            {move || {
                let small = counted.get().1;
                (small > 0).then(|| view! {
                    <p class="small muted" data-testid="count-too-small">
                        {format!("{small} of them too small to classify: counted as \u{201c}white cell\u{201d}; a higher magnification classifies them.")}
                    </p>
                })
            }}
        </div>
    }
}
