//! Calibration to your laboratory on the page: the panel that counts the cells a person
//! confirmed, calibrates the prediction sets on them (`crate::uncertainty::lab`), and keeps the
//! profile in the browser (its own IndexedDB database, `marrowscope-lab`, apart from the
//! sessions: a profile belongs to the laboratory, not to one count), exportable and importable as
//! a small JSON file.
//!
//! `[data-testid=lab]` has `data-state` `none` | `collecting` | `calibrated` and `data-n` (the
//! confirmed cells a calibration used, or would use now).

use super::state::AppState;
use crate::uncertainty::lab::{Confirmed, LabProfile, MIN_CELLS, MIN_PER_CLASS};
use crate::web::{console, idb};
use leptos::prelude::*;
use std::sync::Arc;
use web_sys::IdbDatabase;

const DB_NAME: &str = "marrowscope-lab";
const DB_VERSION: u32 = 1;
const STORE: &str = "profiles";
const KEY: &str = "current";

fn upgrade(db: &IdbDatabase) -> Result<(), wasm_bindgen::JsValue> {
    if !db.object_store_names().contains(STORE) {
        db.create_object_store(STORE)?;
    }
    Ok(())
}

async fn open() -> Result<IdbDatabase, String> {
    idb::open(DB_NAME, DB_VERSION, upgrade).await
}

/// The stored profile's text, if any.
async fn load() -> Result<Option<String>, String> {
    let db = open().await?;
    let tx = idb::transaction(&db, &[STORE], false)?;
    let store = tx.object_store(STORE).map_err(|e| idb::error_text(&e))?;
    let v = idb::request(&store.get(&KEY.into()).map_err(|e| idb::error_text(&e))?).await?;
    Ok(v.as_string())
}

/// Stores `text` as the profile (`None`: removes it).
async fn store(text: Option<String>) -> Result<(), String> {
    let db = open().await?;
    let tx = idb::transaction(&db, &[STORE], true)?;
    let s = tx.object_store(STORE).map_err(|e| idb::error_text(&e))?;
    match text {
        Some(t) => s.put_with_key(&t.into(), &KEY.into()).map(|_| ()),
        None => s.delete(&KEY.into()).map(|_| ()),
    }
    .map_err(|e| idb::error_text(&e))?;
    idb::committed(&tx).await
}

/// Reads the kept profile into the page (at start).
pub async fn restore(state: AppState) {
    match load().await {
        Ok(Some(text)) => match LabProfile::parse(&text) {
            Ok(p) => state.lab.set(Some(Arc::new(p))),
            Err(e) => console::warn("lab", &e),
        },
        Ok(None) => {}
        Err(e) => console::warn("lab", &format!("the laboratory profile could not be read: {e}")),
    }
}

/// Keeps `profile` (or none) in the page and in the browser; `error` hears why it could not be kept.
fn keep(state: AppState, profile: Option<LabProfile>, error: RwSignal<Option<String>>) {
    let text = profile.as_ref().map(LabProfile::to_json);
    state.lab.set(profile.map(Arc::new));
    leptos::task::spawn_local(async move {
        if let Err(e) = store(text).await {
            console::warn("lab", &e);
            error.set(Some(format!("The profile applies in this page but could not be kept in this browser ({e}): export it to keep it.")));
        }
    });
}

/// Confirmed cells of the list: (their ranking, the person's class, their ood ratio).
fn confirmed(state: &AppState) -> Vec<(Vec<crate::model::scores::Ranked>, String, Option<f32>)> {
    state.cells.with(|cells| {
        cells
            .iter()
            .filter_map(|c| {
                let r = c.result.as_ref()?;
                Some((r.ranked.clone(), c.final_class.clone()?, r.ood.map(|o| o.ratio())))
            })
            .collect()
    })
}

#[component]
pub fn LabPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let error = RwSignal::new(None::<String>);
    let manifest = move || state.manifest();
    // Confirmed cells of classes the model can name (the others cannot be used).
    let usable = Memo::new(move |_| {
        let m = manifest();
        let known = |code: &str| m.as_ref().is_some_and(|m| m.knows(code));
        state.cells.with(|cells| {
            cells.iter().filter(|c| c.result.is_some()).filter_map(|c| c.final_class.as_deref()).fold((0, 0), |(ok, other), code| {
                if known(code) {
                    (ok + 1, other)
                } else {
                    (ok, other + 1)
                }
            })
        })
    });
    // The kept profile, and whether it applies to the loaded model (why not, in words).
    let applies = Memo::new(move |_| {
        let p = state.lab.get()?;
        let m = manifest()?;
        Some(p.check(&m.model_id, m.conformal.as_ref()))
    });
    let data_state = move || match applies.get() {
        Some(Ok(())) => "calibrated",
        _ if usable.get().0 > 0 => "collecting",
        _ => "none",
    };
    let data_n = move || match (applies.get(), state.lab.get()) {
        (Some(Ok(())), Some(p)) => p.n,
        _ => usable.get().0,
    };
    let calibrate = move |_| {
        error.set(None);
        let Some(m) = manifest() else { return };
        let Some(spec) = m.conformal.as_ref() else {
            error.set(Some("This model has no prediction sets to calibrate.".into()));
            return;
        };
        let cells = confirmed(&state);
        let list: Vec<Confirmed> = cells.iter().map(|(r, c, ood)| Confirmed { ranked: r, code: c, ood: *ood }).collect();
        match LabProfile::calibrate(
            spec,
            &m.model_id,
            &list,
            format!("profile of {}", super::dates::day_words(&js_sys::Date::new_0())),
            js_sys::Date::now(),
        ) {
            Ok(p) => {
                console::info(
                    "lab",
                    &format!("calibrated on {} confirmed cells ({} classes with their own thresholds)", p.n, p.per_class.len()),
                );
                keep(state, Some(p), error);
            }
            Err(e) => error.set(Some(e)),
        }
    };
    let export = move |_| {
        if let Some(p) = state.lab.get_untracked() {
            super::batch::download("marrowscope-lab-profile.json", "application/json", &p.to_json());
        }
    };
    let remove = move |_| {
        error.set(None);
        keep(state, None, error);
    };
    let import = move |ev: leptos::ev::Event| {
        error.set(None);
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
        input.set_value("");
        leptos::task::spawn_local(async move {
            let text = match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                Ok(t) => t.as_string().unwrap_or_default(),
                Err(_) => {
                    error.set(Some("The file could not be read.".into()));
                    return;
                }
            };
            let Some(m) = state.manifest() else {
                error.set(Some("Wait until the model is ready, then import the profile.".into()));
                return;
            };
            match LabProfile::from_json(&text, &m.model_id, m.conformal.as_ref()) {
                Ok(p) => keep(state, Some(p), error),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section class="lab panel" data-testid="lab" data-state=data_state data-n=move || data_n().to_string() aria-labelledby="lab-title">
            <h3 id="lab-title">"Calibrate to your laboratory"</h3>
            {move || match (applies.get(), state.lab.get()) {
                (Some(Ok(())), Some(p)) => view! {
                    <p class="small" data-testid="lab-words">
                        <strong>{format!("Prediction sets calibrated on your {} confirmed cells", p.n)}</strong>
                        {format!(" ({}).", p.name)}
                        {(!p.per_class.is_empty()).then(|| format!(" Classes with their own thresholds (at least {MIN_PER_CLASS} confirmed cells): {}.",
                            p.classes().iter().map(|(c, n)| format!("{c} ({n})")).collect::<Vec<_>>().join(", ")))}
                        " They now say how often they contain the class a person in your laboratory gives, for images like the confirmed ones."
                    </p>
                }.into_any(),
                (Some(Err(why)), Some(_)) => view! {
                    <p class="small warn" data-testid="lab-words">{format!("A laboratory profile is kept in this browser, but it does not apply: {why}")}</p>
                }.into_any(),
                _ => view! {
                    <p class="small" data-testid="lab-words">
                        "The prediction sets are calibrated on the project's own validation images. On your laboratory's images (another stain, camera or magnification) "
                        "they may contain the right class less often than they say. Confirm cells (their class menu, the ✓ button, or Enter on the selected cell); from "
                        {MIN_CELLS.to_string()}" confirmed cells the sets can be calibrated on them."
                    </p>
                }.into_any(),
            }}
            <p class="small muted" data-testid="lab-count">{move || {
                let (ok, other) = usable.get();
                let more = if other > 0 { format!(" ({other} more of classes this model cannot name: not usable)") } else { String::new() };
                format!("{ok} confirmed cell(s) of classes the model knows{more}.")
            }}</p>
            <div class="row">
                <button class="button primary" id="lab-calibrate" data-testid="lab-calibrate" type="button" disabled=move || usable.get().0 < MIN_CELLS || manifest().is_none()
                    on:click=calibrate>
                    {move || {
                        let (ok, _) = usable.get();
                        if ok < MIN_CELLS {
                            format!("Calibrate (confirm {} more)", MIN_CELLS - ok)
                        } else if matches!(applies.get(), Some(Ok(()))) {
                            format!("Calibrate again on {ok} cells")
                        } else {
                            format!("Calibrate on {ok} confirmed cells")
                        }
                    }}
                </button>
                <button class="button" data-testid="lab-export" type="button" disabled=move || state.lab.get().is_none() on:click=export>"Export profile"</button>
                <label class="button" for="lab-import">"Import profile…"</label>
                <input id="lab-import" data-testid="lab-import" type="file" accept="application/json,.json" class="visually-hidden"
                    aria-label="Import a laboratory profile (JSON)" on:change=import />
                <button class="button" data-testid="lab-remove" type="button" disabled=move || state.lab.get().is_none() on:click=remove>"Remove"</button>
            </div>
            {move || error.get().map(|e| view! { <p class="small warn" role="alert" data-testid="lab-error">{e}</p> })}
            <p class="small muted">"Calibration makes the sets honest about this laboratory's images; it is not a validation of the model for clinical use, and it does not make the model more accurate."</p>
        </section>
    }
}
