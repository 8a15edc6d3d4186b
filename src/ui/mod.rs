//! The Leptos user interface: a thin layer over the core. Model work runs in
//! a Web Worker (see [`engine`]); components only show state and send intents.

pub mod about;
pub mod atlas;
pub mod batch;
pub mod camera;
pub mod dates;
pub mod differential;
pub mod engine;
pub mod entries;
pub mod fetch;
pub mod in_view;
pub mod input;
pub mod lab;
pub mod learn;
pub mod model_status;
pub mod opinion;
pub mod outbox;
pub mod persist;
pub mod replies;
pub mod result;
pub mod sessions;
pub mod shift;
pub mod state;
pub mod uncertainty;
pub mod viewer;
pub mod workers;

use crate::web::console;
use leptos::prelude::*;
use state::{AppState, ModelState, Tab};

/// Fetches the bundled model named by `model/manifest.json` and starts the worker on it.
async fn load_bundled_model(state: AppState) {
    state.model.set(ModelState::Loading("Downloading the model…".into()));
    // public/worker-boot.js fetched it before this code ran (and handed the first worker a copy).
    let early = match workers::boot_model().await {
        Some(Ok(model)) => Some(model),
        Some(Err(e)) => {
            console::warn("model", &format!("the early download of the model failed ({e}); fetching it again"));
            None
        }
        None => None,
    };
    let result = async {
        if let Some((text, bytes)) = early {
            crate::web::marks::mark("manifest-fetched");
            crate::web::marks::mark("model-fetched");
            return Ok((text, bytes));
        }
        let text = fetch::text("model/manifest.json").await?;
        crate::web::marks::mark("manifest-fetched");
        let manifest = crate::Manifest::from_json(&text).map_err(|e| e.to_string())?;
        let bytes = fetch::bytes(&format!("model/{}", manifest.onnx_file)).await?;
        crate::web::marks::mark("model-fetched");
        Ok::<_, String>((text, bytes))
    }
    .await;
    match result {
        Ok((text, bytes)) => engine::load_model(text, bytes, "this site".into()),
        Err(e) => {
            console::error("model", &e);
            state.model.set(ModelState::Failed(format!("The model could not be loaded: {e}")));
            model_status::settled();
        }
    }
}

thread_local! {
    static FATAL: std::cell::Cell<Option<RwSignal<Option<String>>>> = const { std::cell::Cell::new(None) };
}

fn show_panic(msg: &str) {
    if let Some(sig) = FATAL.with(|f| f.get()) {
        sig.set(Some(msg.to_string()));
    }
    // Also write to the DOM directly: the reactive system may be unusable after a panic.
    if let Some(el) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("panic")) {
        el.set_text_content(Some(&format!(
            "Something went wrong inside Marrowscope: {msg}. Reload the page to continue; your images were not sent anywhere."
        )));
        let _ = el.set_attribute("data-visible", "true");
    }
}

#[component]
fn ModelStatus() -> impl IntoView {
    let state = expect_context::<AppState>();
    let data_state = move || match state.model.get() {
        ModelState::Loading(_) => "loading",
        ModelState::Ready { .. } => "ready",
        ModelState::Failed(_) => "error",
    };
    view! {
        <div class="model-status" data-testid="model-status" data-state=data_state role="status" aria-live="polite">
            {move || match state.model.get() {
                ModelState::Loading(s) => view! { <span class="dot loading"></span><span>{s}</span> }.into_any(),
                ModelState::Ready { manifest, .. } => view! {
                    <span class="dot ready"></span>
                    <span>{format!("Model ready: {} · knows {} of the 21 MLL classes{}", manifest.model_id,
                        manifest.classes.iter().filter(|c| crate::taxonomy::is_mll(c)).count(),
                        if manifest.classes.iter().any(|c| !crate::taxonomy::is_mll(c)) { " and platelets" } else { "" })}</span>
                }.into_any(),
                ModelState::Failed(e) => view! { <span class="dot failed"></span><span data-testid="model-error">{e}</span> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn Tabs() -> impl IntoView {
    let state = expect_context::<AppState>();
    let tab = move |t: Tab, id: &'static str, label: &'static str| {
        view! {
            <button id=id role="tab" class="tab" aria-selected=move || (state.tab.get() == t).to_string()
                on:click=move |_| state.tab.set(t)>{label}</button>
        }
    };
    view! {
        <nav role="tablist" aria-label="Sections" class="tabs">
            {tab(Tab::Classify, "tab-classify", "Classify")}
            {tab(Tab::Count, "tab-count", "Count")}
            {tab(Tab::Learn, "tab-learn", "Learn")}
            {tab(Tab::Atlas, "tab-atlas", "Atlas")}
            {tab(Tab::About, "tab-about", "About")}
        </nav>
    }
}

#[component]
fn ThemeToggle() -> impl IntoView {
    let storage = || web_sys::window().and_then(|w| w.local_storage().ok().flatten());
    let initial = storage().and_then(|s| s.get_item("theme").ok().flatten()).unwrap_or_default();
    let theme = RwSignal::new(initial);
    Effect::new(move |_| {
        let t = theme.get();
        if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
            if t.is_empty() {
                let _ = root.remove_attribute("data-theme");
            } else {
                let _ = root.set_attribute("data-theme", &t);
            }
        }
        if let Some(s) = storage() {
            let _ = s.set_item("theme", &t);
        }
    });
    view! {
        <label class="small theme">"Theme "
            <select id="theme" on:change=move |ev| theme.set(event_target_value(&ev)) aria-label="Colour theme">
                <option value="" selected=move || theme.get().is_empty()>"system"</option>
                <option value="light" selected=move || theme.get() == "light">"light"</option>
                <option value="dark" selected=move || theme.get() == "dark">"dark"</option>
            </select>
        </label>
    }
}

#[component]
fn App() -> impl IntoView {
    let state = AppState::new();
    provide_context(state);
    provide_context(uncertainty::Coverage(RwSignal::new(crate::uncertainty::conformal::Level::DEFAULT)));
    provide_context(learn::LearnState::new());
    shift::provide(state);
    camera::provide();
    FATAL.with(|f| f.set(Some(state.fatal)));
    engine::init(state);
    input::listen_for_paste();
    batch::listen_for_counter_keys(state);
    leptos::task::spawn_local(load_bundled_model(state));
    leptos::task::spawn_local(input::load_gallery(state));
    leptos::task::spawn_local(persist::start(state));
    leptos::task::spawn_local(lab::restore(state));
    install_test_hooks();

    view! {
        <header class="top">
            <div class="brand"><span class="logo" aria-hidden="true">"◉"</span><h1>"Marrowscope"</h1>
                <span class="tagline muted">"Bone-marrow cell classifier · runs in your browser"</span></div>
            <ModelStatus />
            <ThemeToggle />
        </header>
        <Tabs />
        <main id="main" class="layout">
            <aside class="sidebar" hidden=move || matches!(state.tab.get(), Tab::Atlas | Tab::About | Tab::Learn) aria-label="Batch">
                <sessions::SessionPanel />
                <input::Intake />
                <camera::CameraControls />
                <batch::Progress />
                <camera::CountProgress />
                <shift::ShiftNotice />
                <batch::CellList />
            </aside>
            <div class="tab-panel" role="tabpanel" hidden=move || state.tab.get() != Tab::Classify>
                <div class="workspace">
                    <div class="center"><camera::CameraView /><viewer::Viewer /></div>
                    <div class="right">
                        <uncertainty::CoverageSelect />
                        <result::ResultPanel />
                        <lab::LabPanel />
                        <input::Gallery />
                    </div>
                </div>
            </div>
            <div class="tab-panel" role="tabpanel" hidden=move || state.tab.get() != Tab::Count>
                <differential::Differential />
            </div>
            <div class="tab-panel wide" role="tabpanel" hidden=move || state.tab.get() != Tab::Learn><learn::Learn /></div>
            <div class="tab-panel wide" role="tabpanel" hidden=move || state.tab.get() != Tab::Atlas><atlas::Atlas /></div>
            <div class="tab-panel wide" role="tabpanel" hidden=move || state.tab.get() != Tab::About><about::About /></div>
        </main>
        <footer class="bottom small muted">
            "Not a medical device. Images never leave this browser. Cell images and model training data: "
            {about::CITATION}" "<a href=about::DOI rel="noopener">"doi:10.7937/TCIA.AXH3-T579"</a>" (CC BY 4.0). "
            "Blood sample images: Acevedo et al. (2020), Data in Brief 30:105474, "<a href=about::PBC_DOI rel="noopener">"doi:10.17632/snkd93bnjr.1"</a>" (CC BY 4.0)."
        </footer>
    }
}

/// `?testhooks` on the page's address: `window.marrowscopeTest` for end-to-end tests
/// (`crashWorkerOnNextFile()`: the worker runs out of memory on the next file).
fn install_test_hooks() {
    let Some(w) = web_sys::window() else { return };
    let search = w.location().search().unwrap_or_default();
    if !search.split(['?', '&']).any(|kv| kv == "testhooks") {
        return;
    }
    let hooks = js_sys::Object::new();
    let crash = wasm_bindgen::closure::Closure::<dyn Fn()>::new(engine::crash_worker_on_next_file);
    let _ = js_sys::Reflect::set(&hooks, &"crashWorkerOnNextFile".into(), crash.as_ref());
    crash.forget();
    let _ = js_sys::Reflect::set(&w, &"marrowscopeTest".into(), &hooks);
}

/// Entry point of the page bundle.
pub fn mount() {
    console::install_panic_hook(show_panic);
    crate::web::marks::mark("app-start");
    console::info("app", "starting");
    leptos::mount::mount_to_body(App);
    // `?selftest=panic` proves the panic path end to end (tests/e2e/integrity.test.mjs): a panic
    // after the page is up must end in the visible message, not a silent, frozen page.
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    if search.split(['?', '&']).any(|kv| kv == "selftest=panic") {
        leptos::prelude::set_timeout(|| panic!("self-test panic requested by ?selftest=panic"), std::time::Duration::from_millis(50));
    }
}
