//! About: what the model covers and how well, the dataset citation, privacy,
//! and bringing your own model.

use super::engine;
use super::input::files_of;
use super::state::{AppState, ModelState};
use crate::taxonomy;
use leptos::prelude::*;
use wasm_bindgen_futures::JsFuture;

pub const CITATION: &str = "Matek, C., Krappe, S., Münzenmayer, C., Haferlach, T., & Marr, C. (2021). An Expert-Annotated Dataset of Bone Marrow Cytology in Hematologic Malignancies [Data set]. The Cancer Imaging Archive.";
pub const DOI: &str = "https://doi.org/10.7937/TCIA.AXH3-T579";
/// The peripheral-blood dataset some of the sample images come from.
pub const PBC_CITATION: &str = "Acevedo, A., Merino, A., Alférez, S., Molina, Á., Boldú, L., & Rodellar, J. (2020). A dataset of microscopic peripheral blood cell images for development of automatic recognition systems. Data in Brief 30:105474. Mendeley Data.";
pub const PBC_DOI: &str = "https://doi.org/10.17632/snkd93bnjr.1";

async fn read_text(file: &web_sys::File) -> Option<String> {
    JsFuture::from(file.text()).await.ok()?.as_string()
}

async fn read_bytes(file: &web_sys::File) -> Option<js_sys::Uint8Array> {
    let buf = JsFuture::from(file.array_buffer()).await.ok()?;
    Some(js_sys::Uint8Array::new(&buf))
}

#[component]
pub fn OwnModel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let message = RwSignal::new(String::new());
    let on_change = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let files = files_of(input.files());
        input.set_value("");
        if files.is_empty() {
            return;
        }
        let previous = state.model.get_untracked();
        state.model.set(super::state::ModelState::Loading("Reading your model files…".into()));
        leptos::task::spawn_local(async move {
            let json = files.iter().find(|f| f.name().to_ascii_lowercase().ends_with(".json"));
            let onnx = files.iter().find(|f| f.name().to_ascii_lowercase().ends_with(".onnx"));
            let (Some(json), Some(onnx)) = (json, onnx) else {
                message.set("Choose two files together: the model (.onnx) and its manifest (.json).".into());
                state.model.set(previous);
                return;
            };
            let (Some(text), Some(bytes)) = (read_text(json).await, read_bytes(onnx).await) else {
                message.set("The files could not be read.".into());
                state.model.set(previous);
                return;
            };
            message.set(String::new());
            // A new model starts a new session; the current one stays stored.
            super::persist::new_session(state).await;
            engine::load_model(text, bytes, format!("your file {}", onnx.name()));
            state.tab.set(super::state::Tab::Classify);
        });
    };
    view! {
        <section class="own-model" aria-labelledby="own-title">
            <h2 id="own-title">"Use your own model"</h2>
            <p>"Load an ONNX model trained with Marrowscope's " <code>"training/"</code> " pipeline (for example a 21-class model trained on the full dataset) together with its " <code>"manifest.json"</code>
               ". It is checked (manifest, checksum, input shape, class codes) and used for the rest of this visit. Nothing is uploaded."</p>
            <label class="button" for="own-model-input">"Choose model + manifest…"</label>
            <input id="own-model-input" class="visually-hidden" type="file" multiple accept=".onnx,.json,application/json" on:change=on_change aria-label="Choose an ONNX model and its manifest" />
            <p class="error-text" role="alert">{move || message.get()}</p>
        </section>
    }
}

/// How the worker computes, in words.
fn simd_text(simd: &str) -> String {
    let how = match simd {
        "relaxed" => "WebAssembly SIMD with relaxed SIMD (this browser supports it)",
        "simd128" => "WebAssembly SIMD (without relaxed SIMD)",
        _ => "WebAssembly without SIMD",
    };
    format!("tract, int8, in a background worker: {how}")
}

/// How single-cell images are brought to the model's scale, in words.
fn scale_text(s: &crate::image::cell_scale::CellScale) -> String {
    let how = if s.size_exponent >= 0.999 {
        format!("scaled so that its nucleus is {:.0} px across", s.nucleus_diameter_px)
    } else if s.size_exponent <= 0.001 {
        "kept at its own pixel scale".to_string()
    } else {
        format!(
            "scaled part of the way towards a nucleus {:.0} px across (by the ratio to the power {:.2}, so that large cells stay larger than small ones)",
            s.nucleus_diameter_px, s.size_exponent
        )
    };
    format!(
        "Each image's central cell is found, measured, {how} and cut out as a {side}×{side} px square, the framing of the training crops, whatever the image's own framing or resolution; the viewer shows that crop.",
        side = s.crop_side
    )
}

/// "; bone marrow: accuracy …; peripheral blood: …" from the manifest's per-source test metrics.
fn per_source_text(m: &crate::manifest::Manifest) -> String {
    let Some(per) = m.metrics.extra.get("per_source").and_then(|v| v.as_object()) else { return String::new() };
    per.iter()
        .filter_map(|(name, v)| {
            let (acc, f1) = (v.get("accuracy")?.as_f64()?, v.get("macro_f1")?.as_f64()?);
            let name = match name.as_str() {
                "marrow" => "bone marrow",
                "blood" => "peripheral blood",
                other => other,
            };
            Some(format!("; {name}: accuracy {:.1} %, macro-F1 {f1:.3}", acc * 100.0))
        })
        .collect()
}

/// The size of the pool of classification workers (`engine::set_pool_size`).
#[component]
fn Workers() -> impl IntoView {
    let size = RwSignal::new(engine::pool_size());
    let cores = super::workers::cores();
    view! {
        <h3>"This computer"</h3>
        <p>
            <label>"Classification workers "
                <select id="worker-count" data-testid="worker-count" data-workers=move || size.get().to_string()
                    on:change=move |ev| {
                        if let Ok(n) = event_target_value(&ev).parse::<usize>() {
                            engine::set_pool_size(n);
                            size.set(engine::pool_size());
                        }
                    }>
                    {(1..=engine::MAX_WORKERS).map(|n| view! { <option value=n.to_string() selected=move || size.get() == n>{n.to_string()}</option> }).collect_view()}
                </select>
            </label>
        </p>
        <p class="muted small">{move || format!(
            "{} images side by side, each with its own copy of the model in memory (more workers than cores only share them). This browser reports {} logical cores; the default is one fewer than that (at most {}), so that the page itself stays responsive. The choice is kept for your next visit.",
            match size.get() { 1 => "One worker classifies".to_string(), n => format!("{n} workers classify") },
            if cores == 0 { "no count of".to_string() } else { cores.to_string() },
            engine::MAX_WORKERS,
        )}</p>
    }
}

#[component]
pub fn About() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <section class="about" aria-labelledby="about-title">
            <h2 id="about-title">"About Marrowscope"</h2>
            <p><strong>"Not a medical device."</strong>" Marrowscope is for teaching and demonstration. It must not be used to diagnose or treat anyone."</p>
            <h3>"The loaded model"</h3>
            {move || match state.model.get() {
                ModelState::Ready { manifest: m, load_ms, source, simd } => {
                    let unknown: Vec<&str> = taxonomy::CLASSES.iter().filter(|c| !m.knows(c.code)).map(|c| c.code).collect();
                    view! {
                        <dl class="facts" data-testid="model-facts">
                            <dt>"Model"</dt><dd>{format!("{} (version {}), from {source}, ready in {:.1} s", m.model_id, m.version, load_ms / 1000.0)}</dd>
                            <dt>"Recognises"</dt><dd>{format!("{} classes: {}", m.classes.len(), m.classes.iter().map(|c| match m.learned_from(c) {
                                Some(t) if !t.contains(" and ") => format!("{c} ({}; {t})", taxonomy::name_of(c)),
                                _ => format!("{c} ({})", taxonomy::name_of(c)),
                            }).collect::<Vec<_>>().join(", "))}</dd>
                            {m.input.cell_scale.map(|s| view! {
                                <dt>"Scale"</dt><dd>{scale_text(&s)}</dd>
                            })}
                            <dt>"Cannot recognise"</dt><dd>{if unknown.is_empty() { "—".to_string() } else { format!("{} classes: {}", unknown.len(), unknown.join(", ")) }}</dd>
                            <dt>"Runs on"</dt><dd data-testid="simd">{simd_text(&simd)}</dd>
                            <dt>"Input"</dt><dd>{format!("{}×{} px RGB", m.input.width, m.input.height)}</dd>
                            <dt>"Measured quality"</dt><dd data-testid="quality">{format!("on the held-out {} split ({}): accuracy {:.1} %, macro-F1 {:.3}{}", m.metrics.split, m.metrics.engine, m.metrics.accuracy * 100.0, m.metrics.macro_f1, per_source_text(&m))}</dd>
                            {m.other_labs_text().map(|t| view! { <dt>"Other laboratories"</dt><dd data-testid="other-labs">{t}</dd> })}
                            <dt>"Not sure below"</dt><dd>{format!("{:.0} % top probability. {}", m.low_confidence_threshold * 100.0, m.threshold_rule)}</dd>
                            <dt>"Training data"</dt><dd>{m.training.data.clone()}</dd>
                        </dl>
                        <table class="per-class">
                            <thead><tr><th>"Class"</th><th>"Precision"</th><th>"Recall"</th><th>"F1"</th><th>"Test images"</th></tr></thead>
                            <tbody>{m.metrics.per_class.iter().map(|(code, c)| view! {
                                <tr><th scope="row">{format!("{code} {}", taxonomy::name_of(code))}</th><td>{format!("{:.3}", c.precision)}</td><td>{format!("{:.3}", c.recall)}</td><td>{format!("{:.3}", c.f1)}</td><td>{c.support}</td></tr>
                            }).collect_view()}</tbody>
                        </table>
                        <p class="muted small">"The test images come from the same dataset as the training images (split by image, not by patient), so real-world accuracy on other labs' smears will be lower."</p>
                    }.into_any()
                }
                ModelState::Loading(s) => view! { <p>{s}</p> }.into_any(),
                ModelState::Failed(e) => view! { <p class="error-text">{e}</p> }.into_any(),
            }}
            <Workers />
            <h3>"Privacy"</h3>
            <p>"Everything happens inside this browser tab: images are decoded and classified by WebAssembly code on your computer. No image, result or statistic is sent anywhere; the page makes no requests except for its own files. After the first visit it also works offline."</p>
            <h3>"Data and citation"</h3>
            <p>"The model was trained on images from the MLL bone-marrow dataset and (the two-source model) the PBC peripheral-blood dataset, both licensed CC BY 4.0 and cited below:"</p>
            <blockquote>{CITATION}" "<a href=DOI rel="noopener">{DOI}</a></blockquote>
            <p>"Companion paper: Matek et al., “Highly accurate differentiation of bone marrow cell morphologies using deep neural networks on a large image data set”, Blood 138(20):1917, 2021."</p>
            <p>"The sample images (committed in the source as " <code>"public/samples/"</code> ") come from this dataset (bone marrow) and from the PBC peripheral-blood dataset, also licensed CC BY 4.0:"</p>
            <blockquote>{PBC_CITATION}" "<a href=PBC_DOI rel="noopener">{PBC_DOI}</a></blockquote>
            <p>"Each sample's dataset, original file and the change made (re-encoded as JPEG; for the blood images, the central 224×224 px) are listed in "
               <a href="gallery/ATTRIBUTION.md" rel="noopener">"ATTRIBUTION.md"</a>" (" <code>"public/samples/ATTRIBUTION.md"</code> " in the source)."</p>
            <OwnModel />
        </section>
    }
}
