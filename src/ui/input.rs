//! Getting images in: file picker, drag and drop, paste, and the sample gallery.

use super::engine;
use super::fetch;
use super::state::{label_name, AppState, GalleryState};
use leptos::prelude::*;
use web_sys::{File, FileList};

pub fn files_of(list: Option<FileList>) -> Vec<File> {
    let Some(list) = list else { return vec![] };
    (0..list.length()).filter_map(|i| list.item(i)).collect()
}

/// Picker and drop zone.
#[component]
pub fn Intake() -> impl IntoView {
    let state = expect_context::<AppState>();
    let (over, set_over) = signal(false);
    let input_ref = NodeRef::<leptos::html::Input>::new();
    let on_change = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let files = files_of(input.files());
        if !files.is_empty() {
            engine::enqueue(files);
            state.tab.set(super::state::Tab::Classify);
        }
        input.set_value("");
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        set_over.set(false);
        let files = files_of(ev.data_transfer().and_then(|d| d.files()));
        if !files.is_empty() {
            engine::enqueue(files);
        }
    };
    view! {
        <div
            id="drop-zone"
            class="drop-zone"
            class:over=move || over.get()
            on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); set_over.set(true); }
            on:dragleave=move |_| set_over.set(false)
            on:drop=on_drop
        >
            <p class="drop-title">"Drop cell images here"</p>
            <p class="muted">"or paste (Ctrl+V), or "
                <label for="file-input" class="button primary" tabindex="0"
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        if ev.key() == "Enter" || ev.key() == " " {
                            ev.prevent_default();
                            if let Some(i) = input_ref.get() { i.click(); }
                        }
                    }>"choose files"</label>
            </p>
            <input id="file-input" class="visually-hidden" type="file" multiple accept="image/*,.tif,.tiff"
                aria-label="Choose cell images" node_ref=input_ref on:change=on_change />
            <p class="muted small">"Images stay on this computer: they are read and classified inside this page and never uploaded."</p>
        </div>
    }
}

/// Listens for pasted images anywhere on the page.
pub fn listen_for_paste() {
    let handle = window_event_listener(leptos::ev::paste, move |ev: web_sys::ClipboardEvent| {
        let files = files_of(ev.clipboard_data().and_then(|d| d.files()));
        if !files.is_empty() {
            ev.prevent_default();
            engine::enqueue(files);
        }
    });
    std::mem::forget(handle);
}

pub async fn load_gallery(state: AppState) {
    match fetch::text("gallery/index.json").await {
        Ok(text) => {
            let items: Vec<super::state::GalleryItem> = serde_json::from_str::<Vec<serde_json::Value>>(&text)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|v| {
                    Some(super::state::GalleryItem {
                        file: v.get("file")?.as_str()?.to_string(),
                        label: v.get("label")?.as_str()?.to_string(),
                        source: v.get("source").and_then(|s| s.as_str()).map(str::to_string),
                    })
                })
                .collect();
            state.gallery.set(if items.is_empty() { GalleryState::Missing } else { GalleryState::Ready(items) });
        }
        Err(_) => state.gallery.set(GalleryState::Missing),
    }
}

async fn classify_sample(file: String) {
    match fetch::blob(&format!("gallery/{file}")).await {
        Ok(blob) => {
            let name = file.rsplit('/').next().unwrap_or(&file).to_string();
            let parts = js_sys::Array::of1(&blob);
            let opts = web_sys::FilePropertyBag::new();
            opts.set_type(&blob.type_());
            if let Ok(f) = File::new_with_blob_sequence_and_options(&parts, &name, &opts) {
                engine::enqueue(vec![f]);
            }
        }
        Err(e) => crate::web::console::warn("gallery", &e),
    }
}

/// Sample images copied into the site at build time: the committed set in `public/samples/`
/// (bone marrow and peripheral blood) plus any added from local dataset folders.
#[component]
pub fn Gallery() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <section class="gallery" aria-labelledby="gallery-title">
            <h2 id="gallery-title">"Samples"</h2>
            {move || match state.gallery.get() {
                GalleryState::Loading => view! { <p class="muted">"Loading samples…"</p> }.into_any(),
                GalleryState::Missing => view! {
                    <p class="muted" data-testid="gallery-missing">
                        "No sample images were built into this site: the sample set committed in "
                        <code>"public/samples/"</code>
                        " was missing when it was built. Build from a complete checkout, or add images with "
                        <code>"MARROWSCOPE_DATA=/path/to/dataset"</code>
                        " (bone marrow: the MLL/TCIA layout, or the mll-subset with splits.csv) or "
                        <code>"MARROWSCOPE_PBC_DATA=/path/to/pbc"</code>
                        " (peripheral blood); a few images per class are copied into the site, never into the repository."
                    </p>
                }.into_any(),
                GalleryState::Ready(items) => {
                    // The thumbnails wait for the model: on a first visit their bytes would
                    // compete with the worker's wasm and the model (issue 35).
                    let show_images = Memo::new(move |_| !matches!(state.model.get(), super::state::ModelState::Loading(_)));
                    let has_blood = items.iter().any(|it| it.source_or_marrow() == "blood");
                    let classify_all = {
                        let items = items.clone();
                        move |_| {
                            for it in items.clone() {
                                leptos::task::spawn_local(classify_sample(it.file));
                            }
                        }
                    };
                    view! {
                        <div class="gallery-grid">
                            {items.into_iter().map(|it| {
                                let file = it.file.clone();
                                let file_for_img = it.file.clone();
                                let source = it.source_or_marrow().to_string();
                                // The accessible name starts with the visible text (WCAG 2.5.3, Label in Name).
                                let label = format!("{} {source}: classify sample {} ({}, {})", it.label, it.file, label_name(&it.label), it.source_text());
                                view! {
                                    <button class="gallery-item" data-testid="gallery-item" data-label=it.label.clone() data-source=it.source.clone()
                                        title=label.clone() aria-label=label
                                        on:click=move |_| leptos::task::spawn_local(classify_sample(file.clone()))>
                                        <img src=move || show_images.get().then(|| format!("gallery/{file_for_img}")) alt="" loading="lazy" width="64" height="64" />
                                        <span>{it.label.clone()}</span>
                                        " "<span class="gallery-source">{source}</span>
                                    </button>
                                }
                            }).collect_view()}
                        </div>
                        {move || has_blood.then(|| {
                            let learned_blood = state.manifest().is_some_and(|m| m.class_sources.values().flatten().any(|s| s == "blood"));
                            let text = if learned_blood {
                                "“blood” samples are peripheral-blood cells (PBC, another laboratory and scanner); the loaded model learned from them and from the bone-marrow (“marrow”) images."
                            } else {
                                "“blood” samples are peripheral-blood cells from another laboratory and scanner; the loaded model was trained on bone marrow only, so expect it to be unsure or wrong on them."
                            };
                            view! { <p class="muted small">{text}</p> }
                        })}
                        <button class="button" id="gallery-all" on:click=classify_all>"Classify all samples"</button>
                    }.into_any()
                }
            }}
        </section>
    }
}
