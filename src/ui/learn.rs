//! The Learn tab: a morphology trainer. One expert-labelled cell at a time from the build's
//! teaching set (fetched when Learn first opens, never in the first load); the student names it
//! (buttons or class keys), then sees whether they were right, the expert's label, the model's
//! answer with its prediction set and map, and the atlas text and an example of both classes.
//! Progress (score, streak, accuracy per class, the student's own confusions) is kept in this
//! browser (localStorage) and can be reset and exported. The logic is in `crate::learn`.

use super::engine;
use super::fetch;
use super::opinion::Opinion;
use super::state::{label_name, AppState, Tab};
use super::uncertainty;
use crate::learn::progress::{Answer, Progress};
use crate::learn::schedule::{self, Rng};
use crate::learn::teaching::{self, Focus, Specimen, TeachingItem, FOCUSES};
use crate::model::cam::Heatmap;
use crate::taxonomy;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

const STORE_KEY: &str = "marrowscope-learn-progress";

#[derive(Debug, Clone, PartialEq)]
pub enum TeachingSet {
    NotLoaded,
    Loading,
    Ready(Vec<TeachingItem>),
    Failed(String),
}

/// The Learn tab's state, shared with the atlas (its comparison view uses the teaching set and
/// the student's confusions).
#[derive(Clone, Copy)]
pub struct LearnState {
    pub set: RwSignal<TeachingSet>,
    pub progress: RwSignal<Progress>,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

impl LearnState {
    pub fn new() -> Self {
        let stored = storage().and_then(|s| s.get_item(STORE_KEY).ok().flatten()).and_then(|t| Progress::from_json(&t)).unwrap_or_default();
        let progress = RwSignal::new(stored);
        Effect::new(move |_| {
            let text = progress.with(|p| p.to_json());
            if let Some(s) = storage() {
                if s.set_item(STORE_KEY, &text).is_err() {
                    crate::web::console::warn("learn", "progress could not be stored in this browser");
                }
            }
        });
        LearnState { set: RwSignal::new(TeachingSet::NotLoaded), progress }
    }

    /// Fetches the teaching set's index (once), then every image in the background, so that
    /// the service worker keeps them for offline use.
    pub fn load(self) {
        if !matches!(self.set.get_untracked(), TeachingSet::NotLoaded) {
            return;
        }
        self.set.set(TeachingSet::Loading);
        leptos::task::spawn_local(async move {
            match fetch::text("teaching/index.json").await.and_then(|t| teaching::parse_index(&t)) {
                Ok(items) => {
                    let files: Vec<String> = items.iter().map(|i| i.file.clone()).collect();
                    self.set.set(TeachingSet::Ready(items));
                    for f in files {
                        let _ = fetch::blob(&format!("teaching/{f}")).await;
                    }
                }
                Err(e) => self.set.set(TeachingSet::Failed(e)),
            }
        });
    }
}

impl Default for LearnState {
    fn default() -> Self {
        Self::new()
    }
}

fn name_of(code: &str) -> String {
    label_name(code).to_string()
}

fn description_of(code: &str) -> &'static str {
    taxonomy::by_code(code)
        .map(|c| c.description)
        .unwrap_or("Platelet (thrombocyte): a small anucleate fragment of a megakaryocyte, with fine purple granules.")
}

fn key_of(code: &str) -> Option<char> {
    taxonomy::by_code(code).map(|c| c.key)
}

#[component]
pub fn Learn() -> impl IntoView {
    let state = expect_context::<AppState>();
    let learn = expect_context::<LearnState>();
    let level = uncertainty::coverage();
    let focus = RwSignal::new(FOCUSES[0].id);
    let specimen = RwSignal::new(Specimen::Both);
    let weak = RwSignal::new(false);
    let current = RwSignal::new(None::<usize>);
    let chosen = RwSignal::new(None::<String>);
    let opinion = RwSignal::new(None::<Result<Opinion, String>>);
    let confirm_reset = RwSignal::new(false);
    let rng = StoredValue::new(Rng::new((js_sys::Math::random() * 1e15) as u64 + 1));
    let canvas_ref = NodeRef::<leptos::html::Canvas>::new();

    // Opening the tab loads the set.
    Effect::new(move |_| {
        if state.tab.get() == Tab::Learn {
            learn.load();
        }
    });
    let items = Memo::new(move |_| match learn.set.get() {
        TeachingSet::Ready(items) => items,
        _ => Vec::new(),
    });
    let active_focus = move || -> Focus { FOCUSES.into_iter().find(|f| f.id == focus.get()).unwrap_or(FOCUSES[0]) };
    let pool = Memo::new(move |_| items.with(|it| teaching::pool(it, &active_focus(), specimen.get())));
    let options = Memo::new(move |_| items.with(|it| pool.with(|p| teaching::options(it, p, &active_focus()))));
    let next = move || {
        let k = items.with_untracked(|it| {
            pool.with_untracked(|p| {
                learn.progress.with_untracked(|pr| rng.try_update_value(|r| schedule::next(it, p, pr, weak.get_untracked(), r)).flatten())
            })
        });
        chosen.set(None);
        opinion.set(None);
        current.set(k);
    };
    // A new pool (set loaded, focus or specimen changed): a new cell from it.
    Effect::new(move |_| {
        let p = pool.get();
        if !p.is_empty() && current.get_untracked().is_none_or(|k| !p.contains(&k)) {
            next();
        }
    });
    let item = Memo::new(move |_| current.get().and_then(|k| items.with(|it| it.get(k).cloned())));
    let answer = move |code: String| {
        if chosen.get_untracked().is_some() {
            return;
        }
        let Some(it) = item.get_untracked() else { return };
        chosen.set(Some(code.clone()));
        learn.progress.update(|p| {
            p.record(Answer {
                file: it.file.clone(),
                truth: it.label.clone(),
                chosen: code,
                source: it.source.clone(),
                model: None,
                at_ms: js_sys::Date::now(),
            });
        });
        // The model's second opinion on the same image.
        let file = it.file.clone();
        leptos::task::spawn_local(async move {
            match fetch::blob(&format!("teaching/{file}")).await {
                Ok(b) => engine::ask_opinion(b, opinion),
                Err(e) => opinion.set(Some(Err(e))),
            }
        });
    };
    // The model's top class joins the answer once it arrives.
    Effect::new(move |_| {
        if let (Some(Ok(o)), Some(it)) = (opinion.get(), item.get_untracked()) {
            if let Some(top) = o.result.ranked.first() {
                let code = top.code.clone();
                learn.progress.update(|p| p.set_model_answer(&it.file, &code));
            }
        }
    });
    // Keys: a class's key answers; Enter or Space goes on.
    let handle = window_event_listener(leptos::ev::keydown, move |ev: web_sys::KeyboardEvent| {
        if state.tab.get_untracked() != Tab::Learn || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let tag =
            ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).map(|e| e.tag_name().to_ascii_lowercase()).unwrap_or_default();
        if matches!(tag.as_str(), "input" | "select" | "textarea" | "button") {
            return;
        }
        let key = ev.key();
        if chosen.get_untracked().is_some() {
            if key == "Enter" || key == " " {
                ev.prevent_default();
                next();
            }
            return;
        }
        if let Some(ch) = key.chars().next().filter(|_| key.chars().count() == 1) {
            if let Some(code) = options.get_untracked().into_iter().find(|c| key_of(c) == Some(ch)) {
                ev.prevent_default();
                answer(code);
            }
        }
    });
    on_cleanup(move || handle.remove());
    // The map of the model's top class, on the crop it saw.
    Effect::new(move |_| {
        let heat = opinion.get().and_then(|o| o.ok()).and_then(|o| {
            let r = &o.result;
            let code = r.ranked.first()?.code.clone();
            let top = state.manifest().and_then(|m| m.classes.iter().position(|c| *c == code))?;
            Some(Heatmap { width: r.heat_w, height: r.heat_h, values: r.heatmaps.get(top)?.clone() })
        });
        if let Some(c) = canvas_ref.get() {
            super::viewer::draw_cam(&c, heat);
        }
    });
    let example_of = move |code: &str, except: &str| -> Option<String> {
        items.with(|it| it.iter().find(|i| i.label == code && i.file != except).map(|i| format!("teaching/{}", i.file)))
    };

    view! {
        <section class="learn" aria-labelledby="learn-title">
            <h2 id="learn-title">"Learn: name the cell"</h2>
            <p class="muted small">"Expert-labelled cells from the test splits of the MLL bone-marrow and PBC peripheral-blood datasets (never used to train the model). Name each one; then compare with the expert's label and the model's opinion. Your progress stays in this browser."</p>
            <div class="learn-settings small">
                <label>"Practise "
                    <select id="quiz-focus" on:change=move |ev| focus.set(FOCUSES.iter().find(|f| f.id == event_target_value(&ev)).map(|f| f.id).unwrap_or("all"))>
                        {move || items.with(|it| teaching::focuses_for(it)).into_iter().map(|f| view! { <option value=f.id selected=move || focus.get() == f.id>{f.label}</option> }).collect_view()}
                    </select>
                </label>
                <label>" on "
                    <select id="quiz-specimen" on:change=move |ev| specimen.set(Specimen::parse(&event_target_value(&ev)))>
                        <option value="both">"bone marrow and blood"</option>
                        <option value="marrow">"bone marrow only"</option>
                        <option value="blood">"peripheral blood only"</option>
                    </select>
                </label>
                <label class="toggle"><input type="checkbox" id="quiz-weak" on:change=move |ev| weak.set(event_target_checked(&ev)) />" practise my weak classes"</label>
            </div>
            {move || match learn.set.get() {
                TeachingSet::NotLoaded | TeachingSet::Loading => view! { <p class="muted" data-testid="quiz-loading">"Loading the teaching set…"</p> }.into_any(),
                TeachingSet::Failed(e) => view! { <p class="storage-message" role="alert" data-testid="quiz-error">{format!("The teaching set could not be loaded: {e}. It is written into the site by its build (scripts/data/teaching.sh).")}</p> }.into_any(),
                TeachingSet::Ready(_) if pool.with(|p| p.is_empty()) => view! { <p class="muted">"No cell of these classes in this specimen: choose another set."</p> }.into_any(),
                TeachingSet::Ready(_) => view! {
                    <div class="quiz">
                        <div class="quiz-card">
                            {move || item.get().map(|it| {
                                let source = if it.source == "blood" { "peripheral blood (PBC)" } else { "bone marrow (MLL)" };
                                view! {
                                    <figure class="quiz-figure">
                                        <img data-testid="quiz-image" data-file=it.file.clone() data-source=it.source.clone()
                                            src=format!("teaching/{}", it.file) alt="A cell to name" width="250" height="250" />
                                        <figcaption class="muted small">{format!("From {source}. Which cell is this?")}</figcaption>
                                    </figure>
                                }
                            })}
                            <div class="quiz-options" role="group" aria-label="Your answer">
                                {move || options.get().into_iter().map(|code| {
                                    let c2 = code.clone();
                                    let c3 = code.clone();
                                    let c4 = code.clone();
                                    let key = key_of(&code).map(|k| format!(" [{k}]")).unwrap_or_default();
                                    view! {
                                        <button class="button quiz-option" data-testid="quiz-option" data-code=code.clone()
                                            disabled=move || chosen.get().is_some()
                                            class:picked=move || chosen.get().as_deref() == Some(c3.as_str())
                                            class:truth=move || chosen.get().is_some() && item.get().is_some_and(|i| i.label == c4)
                                            on:click=move |_| answer(c2.clone())>
                                            <span class="code">{code.clone()}</span>" "{name_of(&code)}<span class="muted small">{key}</span>
                                        </button>
                                    }
                                }).collect_view()}
                            </div>
                        </div>
                        {move || chosen.get().zip(item.get()).map(|(pick, it)| {
                            let right = pick == it.label;
                            let truth = it.label.clone();
                            let model_known = state.manifest().is_some_and(|m| m.knows(&truth));
                            let sides = if right { vec![truth.clone()] } else { vec![pick.clone(), truth.clone()] };
                            view! {
                                <section class="quiz-feedback" class:right=right class:wrong=!right data-testid="quiz-feedback"
                                    data-correct=truth.clone() data-chosen=pick.clone() data-right=right.to_string() aria-live="polite">
                                    <h3 class="verdict">{if right { format!("Right: {} ({})", truth, name_of(&truth)) } else { format!("Not quite: this is {} ({}); you answered {} ({}).", truth, name_of(&truth), pick, name_of(&pick)) }}</h3>
                                    <p class="small muted">{format!("Expert label from the {} dataset.", if it.source == "blood" { "PBC (Acevedo et al. 2020)" } else { "MLL (Matek et al. 2021)" })}</p>
                                    <div class="model-opinion" data-testid="quiz-model">
                                        <h4>"The model's opinion"</h4>
                                        {
                                        let truth = truth.clone();
                                        let file = it.file.clone();
                                        move || match opinion.get() {
                                            None => view! { <p class="muted small">"Asking the model…"</p> }.into_any(),
                                            Some(Err(e)) => view! { <p class="muted small">{format!("No opinion: {e}")}</p> }.into_any(),
                                            Some(Ok(o)) => {
                                                let r = o.result.clone();
                                                let top = r.ranked.first().map(|t| (t.code.clone(), t.probability)).unwrap_or_default();
                                                let m = state.manifest();
                                                // The teaching set is the project's own images: the model's calibration, not a laboratory's.
                                                let set = uncertainty::set_codes(m.as_deref(), None, &r, level.get());
                                                let agrees = top.0 == truth;
                                                view! {
                                                    <div class="opinion" data-top=top.0.clone() data-set=set.clone().map(|s| s.join(","))>
                                                        <div class="opinion-image">
                                                            <img src=o.crop_url.clone().unwrap_or_else(|| format!("teaching/{file}")) alt="The crop the model saw" width="160" height="160" />
                                                            <canvas node_ref=canvas_ref width=super::viewer::CAM_SIZE height=super::viewer::CAM_SIZE aria-hidden="true"></canvas>
                                                        </div>
                                                        <div>
                                                            <p><strong>{format!("{} ({}) {:.0} %", top.0, name_of(&top.0), top.1 * 100.0)}</strong>
                                                                {if agrees { " — agrees with the expert." } else { " — differs from the expert." }}</p>
                                                            <p class="small">{match &set {
                                                                Some(s) if s.is_empty() => format!("Prediction set at {} %: no class reaches this level.", level.get().percent()),
                                                                Some(s) => format!("Prediction set at {} %: {} ({})", level.get().percent(), s.join(", "), if s.contains(&truth) { "contains the expert's label" } else { "misses the expert's label" }),
                                                                None => "This model has no prediction sets.".to_string(),
                                                            }}</p>
                                                            <p class="small muted">"The map shows where the model looked for its top class."</p>
                                                            {(!model_known).then(|| view! { <p class="small">{format!("The loaded model was not trained on {truth}: it cannot name it.")}</p> })}
                                                        </div>
                                                    </div>
                                                }.into_any()
                                            }
                                        }}
                                    </div>
                                    <div class="quiz-compare">
                                        {sides.into_iter().map(|code| {
                                            let ex = example_of(&code, &it.file);
                                            let role = if code == truth { "Expert's label" } else { "Your answer" };
                                            view! {
                                                <article class="atlas-card" data-testid="quiz-atlas" data-code=code.clone()>
                                                    <header><span class="code">{code.clone()}</span>" "<strong>{name_of(&code)}</strong>" "<span class="muted small">{role}</span></header>
                                                    <p class="small">{description_of(&code)}</p>
                                                    {ex.map(|src| view! { <img src=src alt=format!("Another {}", name_of(&code)) width="96" height="96" loading="lazy" /> })}
                                                </article>
                                            }
                                        }).collect_view()}
                                    </div>
                                    <button class="button primary" id="quiz-next" on:click=move |_| next()>"Next cell (Enter)"</button>
                                </section>
                            }
                        })}
                    </div>
                }.into_any(),
            }}
            <ProgressView confirm_reset=confirm_reset />
        </section>
    }
}

/// Score, streak, accuracy per class, the student's confusions, reset and export.
#[component]
fn ProgressView(confirm_reset: RwSignal<bool>) -> impl IntoView {
    let learn = expect_context::<LearnState>();
    let order: Vec<String> = taxonomy::all().map(|c| c.code.to_string()).collect();
    let order2 = order.clone();
    view! {
        <section class="quiz-progress" aria-labelledby="progress-title">
            <h3 id="progress-title">"Your progress"</h3>
            {move || {
                let (right, total) = learn.progress.with(|p| p.score());
                let (streak, best) = learn.progress.with(|p| (p.streak(), p.best_streak()));
                let pct = if total > 0 { 100.0 * right as f64 / total as f64 } else { 0.0 };
                view! {
                    <p class="quiz-score" data-testid="quiz-score" data-right=right.to_string() data-total=total.to_string() data-streak=streak.to_string()>
                        {if total == 0 { "No answers yet.".to_string() } else { format!("{right} of {total} right ({pct:.0} %) · streak {streak} · best streak {best}") }}
                    </p>
                }
            }}
            <table class="quiz-classes small">
                <thead><tr><th>"Class"</th><th>"Seen"</th><th>"Right"</th><th>"Accuracy"</th><th>"Taken for"</th></tr></thead>
                <tbody>
                    {move || {
                        let rows = learn.progress.with(|p| p.per_class(&order));
                        let conf = learn.progress.with(|p| p.confusions());
                        rows.into_iter().map(|r| {
                            let taken: Vec<String> = conf.iter().filter(|(t, _, _)| *t == r.code).map(|(_, c, n)| format!("{c} ×{n}")).collect();
                            view! {
                                <tr data-testid="quiz-class-row" data-code=r.code.clone() data-seen=r.seen.to_string() data-right=r.right.to_string()>
                                    <td><span class="code">{r.code.clone()}</span>" "{name_of(&r.code)}</td>
                                    <td>{r.seen}</td><td>{r.right}</td><td>{format!("{:.0} %", 100.0 * r.accuracy())}</td>
                                    <td>{taken.join(", ")}</td>
                                </tr>
                            }
                        }).collect_view()
                    }}
                </tbody>
            </table>
            {move || {
                let codes: Vec<String> = learn.progress.with(|p| {
                    let mut seen: Vec<String> = Vec::new();
                    for a in &p.answers {
                        for c in [&a.truth, &a.chosen] {
                            if !seen.contains(c) {
                                seen.push(c.clone());
                            }
                        }
                    }
                    order2.iter().filter(|c| seen.contains(c)).cloned().chain(seen.iter().filter(|c| !order2.contains(c)).cloned()).collect()
                });
                (codes.len() > 1).then(|| {
                    let m = learn.progress.with(|p| p.matrix(&codes));
                    view! {
                        <table class="quiz-matrix small" data-testid="quiz-matrix" aria-label="Your confusion matrix: rows the expert's label, columns your answer">
                            <caption class="muted">"Your confusion matrix (rows: expert, columns: you)"</caption>
                            <thead><tr><th></th>{codes.iter().map(|c| view! { <th>{c.clone()}</th> }).collect_view()}</tr></thead>
                            <tbody>{codes.iter().zip(m).map(|(c, row)| view! {
                                <tr><th>{c.clone()}</th>{row.into_iter().enumerate().map(|(j, n)| view! { <td class:diag={codes.iter().position(|x| x == c) == Some(j)} class:off={n > 0}>{if n > 0 { n.to_string() } else { String::new() }}</td> }).collect_view()}</tr>
                            }).collect_view()}</tbody>
                        </table>
                    }
                })
            }}
            <div class="quiz-actions">
                <button class="button" id="quiz-export-json" on:click=move |_| super::batch::download("marrowscope-learn-progress.json", "application/json", &learn.progress.with(|p| p.to_json()))>"Export (JSON)"</button>
                <button class="button" id="quiz-export-csv" on:click=move |_| super::batch::download("marrowscope-learn-answers.csv", "text/csv", &learn.progress.with(|p| p.to_csv()))>"Export answers (CSV)"</button>
                <button class="button" id="quiz-reset" on:click=move |_| confirm_reset.set(true) disabled=move || learn.progress.with(|p| p.answers.is_empty())>"Reset progress"</button>
                <Show when=move || confirm_reset.get()>
                    <span class="confirm small" data-testid="quiz-reset-confirm" role="alertdialog">"Forget every answer? "
                        <button class="button" id="quiz-reset-yes" on:click=move |_| { learn.progress.set(Progress::new()); confirm_reset.set(false); }>"Reset"</button>
                        " "<button class="button" on:click=move |_| confirm_reset.set(false)>"Keep"</button>
                    </span>
                </Show>
            </div>
        </section>
    }
}
