//! The batch: progress with time left and cancel, the list of cells with
//! thumbnails, sorting, filtering and reassignment (the count itself:
//! `super::differential`).

use super::engine;
use super::state::{AppState, Cell, CellState};
use super::uncertainty;
use crate::manifest::Manifest;
use crate::taxonomy;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Saves `text` as a file the browser downloads (exports of the count and of Learn).
pub(super) fn download(name: &str, mime: &str, text: &str) {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) else { return };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else { return };
    if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
        if let Ok(a) = doc.create_element("a") {
            let a: web_sys::HtmlAnchorElement = a.unchecked_into();
            a.set_href(&url);
            a.set_download(name);
            a.click();
        }
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

#[component]
pub fn Progress() -> impl IntoView {
    let state = expect_context::<AppState>();
    let confirm_clear = RwSignal::new(false);
    let stats = Memo::new(move |_| {
        state.cells.with(|cells| {
            let total = cells.len();
            let finished = cells.iter().filter(|c| matches!(c.state, CellState::Done | CellState::Error | CellState::Cancelled)).count();
            let times: Vec<f64> = cells.iter().filter_map(|c| c.result.as_ref().map(|r| r.ms)).collect();
            let pending = cells.iter().filter(|c| matches!(c.state, CellState::Queued | CellState::Running)).count();
            let avg = if times.is_empty() { 0.0 } else { times.iter().sum::<f64>() / times.len() as f64 };
            (finished, total, pending, avg)
        })
    });
    view! {
        <div class="progress" data-testid="progress" data-done=move || stats.get().0.to_string() data-total=move || stats.get().1.to_string()
            class:idle=move || stats.get().2 == 0>
            <progress max=move || stats.get().1.max(1).to_string() value=move || stats.get().0.to_string() aria-label="Batch progress"></progress>
            <span aria-live="polite">{move || {
                let (done, total, pending, avg) = stats.get();
                if total == 0 { "No images yet".to_string() }
                else if pending == 0 { format!("{done} / {total} done") }
                else { format!("{done} / {total} · about {:.0} s left", (pending as f64 * (avg + 15.0)) / 1000.0) }
            }}</span>
            <button class="button" id="cancel-batch" on:click=move |_| engine::cancel() disabled=move || stats.get().2 == 0>"Cancel"</button>
            <button class="button" id="clear-batch" on:click=move |_| confirm_clear.set(true) disabled=move || stats.get().1 == 0>"Clear"</button>
            <Show when=move || confirm_clear.get()>
                <div class="confirm small" data-testid="confirm-clear" role="alertdialog" aria-label="Remove every cell">
                    <span>{move || format!("Remove all {} entries of this session, from this page and from the browser's storage? To keep them, start a new session instead.", stats.get().1)}</span>
                    " "<button class="button" id="confirm-clear" on:click=move |_| { confirm_clear.set(false); engine::clear(); }>"Remove all"</button>
                    " "<button class="button" id="keep-cells" on:click=move |_| confirm_clear.set(false)>"Keep"</button>
                </div>
            </Show>
        </div>
    }
}

#[derive(Clone, Copy, PartialEq)]
enum SortBy {
    Added,
    ConfidenceAsc,
    ConfidenceDesc,
    Class,
}

/// The reassign menu's options (the model's classes, then the rest of the taxonomy), `current`
/// selected, as HTML: one string per row instead of 22 reactive option views, because a list
/// of 5,000 rows holds 5,000 of these menus.
fn reassign_options(manifest: Option<&Manifest>, current: &str) -> String {
    let mut codes: Vec<&str> = manifest.map(|m| m.classes.iter().map(String::as_str).collect()).unwrap_or_default();
    for k in taxonomy::all() {
        if !codes.contains(&k.code) {
            codes.push(k.code);
        }
    }
    let escape = |t: &str| t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let mut html = String::with_capacity(codes.len() * 40);
    for code in codes {
        let key = taxonomy::by_code(code).map(|c| c.key).unwrap_or(' ');
        let code = escape(code);
        let sel = if code == escape(current) { " selected" } else { "" };
        html.push_str(&format!("<option value=\"{code}\"{sel}>{code} [{key}]</option>"));
    }
    html
}

/// The cell list with thumbnails; `compact` for the classify tab.
#[component]
pub fn CellList() -> impl IntoView {
    let state = expect_context::<AppState>();
    let level = uncertainty::coverage();
    let shifted = super::shift::shifted();
    let sort = RwSignal::new(SortBy::Added);
    let filter_class = RwSignal::new(String::new());
    let only_unsure = RwSignal::new(false);
    let shown = Memo::new(move |_| {
        let mut cells = state.cells.get();
        let fc = filter_class.get();
        if !fc.is_empty() {
            cells.retain(|c| c.final_code() == Some(fc.as_str()));
        }
        if only_unsure.get() {
            cells.retain(|c| c.result.as_ref().is_some_and(|r| r.low_confidence));
        }
        match sort.get() {
            SortBy::Added => {}
            SortBy::ConfidenceAsc => cells.sort_by(|a, b| a.probability().unwrap_or(2.0).total_cmp(&b.probability().unwrap_or(2.0))),
            SortBy::ConfidenceDesc => cells.sort_by(|a, b| b.probability().unwrap_or(-1.0).total_cmp(&a.probability().unwrap_or(-1.0))),
            SortBy::Class => cells.sort_by(|a, b| a.final_code().unwrap_or("~").cmp(b.final_code().unwrap_or("~"))),
        }
        cells
    });
    view! {
        <section class="cell-list" aria-label="Cells in this batch">
            <div class="list-tools">
                <label class="small">"Sort "
                    <select id="sort-cells" on:change=move |ev| sort.set(match event_target_value(&ev).as_str() {
                        "conf-asc" => SortBy::ConfidenceAsc, "conf-desc" => SortBy::ConfidenceDesc, "class" => SortBy::Class, _ => SortBy::Added })>
                        <option value="added">"as added"</option>
                        <option value="conf-asc">"least confident first"</option>
                        <option value="conf-desc">"most confident first"</option>
                        <option value="class">"by class"</option>
                    </select>
                </label>
                <label class="small">"Class "
                    <select id="filter-class" on:change=move |ev| filter_class.set(event_target_value(&ev))>
                        <option value="">"all"</option>
                        {taxonomy::all().map(|c| view! { <option value=c.code>{format!("{} — {}", c.code, c.name)}</option> }).collect_view()}
                    </select>
                </label>
                <label class="small toggle"><input type="checkbox" id="filter-unsure" on:change=move |ev| only_unsure.set(event_target_checked(&ev)) />" only “not sure”"</label>
            </div>
            // A list, not a listbox: a row holds its own controls (the reassign menu), which an
            // option may not (axe nested-interactive). The selected row is aria-current.
            <ul class="cells" aria-label="Cells; select one, then press a class key to reassign it">
                <For each=move || shown.get() key=|c| (c.id, c.rev) let:c>
                    {
                        let id = c.id;
                        let selected = move || state.selected.get() == Some(id);
                        // The preview and the reassign menu only where the row is near the screen.
                        let row = NodeRef::<leptos::html::Li>::new();
                        let near = super::in_view::track(id, row, "ul.cells");
                        let heavy = move || near.get() || selected();
                        let manifest = state.manifest();
                        let corrected = c.final_class.is_some() && c.final_class.as_deref() != c.predicted();
                        let ood = c.result.as_ref().is_some_and(|r| r.ood.is_some_and(|o| o.flagged));
                        // Reactive on the model too: a restored session is shown before the model is ready.
                        let set_codes = {
                            let result = c.result.clone();
                            Memo::new(move |_| result.as_ref().and_then(|r| uncertainty::set_codes(state.manifest().as_deref(), state.lab.get().as_deref(), r, level.get())))
                        };
                        let has_result = c.result.is_some();
                        let calibration = move || {
                            has_result.then(|| crate::session::export::calibration(state.manifest().as_deref(), state.lab.get().as_deref())).flatten()
                        };
                        let confirmed = c.final_class.is_some();
                        // A field's own entry (its white cells follow it as cells of their own).
                        let is_field = c.field_info.is_some();
                        let field_cells = move || {
                            is_field.then(|| state.cells.with(|cs| cs.iter().filter(|x| x.field.as_ref().is_some_and(|f| f.field_id == id)).count().to_string()))
                        };
                        // Every classified file or field cell is a data-testid="cell" entry with its data-*
                        // attributes (read by checks outside the project); a dropped field is "field".
                        view! {
                            <li data-testid=if is_field { "field" } else { "cell" } tabindex="0" aria-current=move || selected().then_some("true")
                                data-selected=move || selected().to_string()
                                // One class string for what does not change within a revision: an element takes
                                // at most 26 attributes (Tachys).
                                class=format!(
                                    "{}{}{}{}",
                                    if is_field { "cell field-entry" } else if c.field.is_some() { "cell field-cell" } else { "cell" },
                                    if corrected { " corrected" } else { "" },
                                    if c.result.as_ref().is_some_and(|r| r.low_confidence) { " unsure" } else { "" },
                                    if ood { " ood" } else { "" },
                                )
                                class:selected=selected
                                data-field=c.field.as_ref().map(|f| f.field_name.clone())
                                data-box=c.field.as_ref().map(|f| f.box_text())
                                data-added=c.field.as_ref().map(|f| f.added.to_string())
                                data-cells=field_cells
                                data-progress=c.progress.clone()
                                data-file=c.name.clone() data-state=c.state.as_str()
                                data-predicted=c.predicted().map(str::to_string) data-final=c.final_code().map(str::to_string)
                                data-prob=c.probability().map(|p| format!("{p:.4}"))
                                data-set=move || set_codes.get().map(|s| s.join(","))
                                data-ood=c.result.as_ref().map(|_| ood.to_string())
                                data-confirmed=has_result.then(|| confirmed.to_string())
                                data-calibration=calibration
                                node_ref=row
                                on:click=move |_| state.selected.set(Some(id))
                                on:focus=move |_| state.selected.set(Some(id))>
                                {
                                    let thumb = c.thumb.clone();
                                    move || if thumb.is_empty() || !heavy() {
                                        view! { <span class="thumb" aria-hidden="true"></span> }.into_any()
                                    } else {
                                        view! { <img class="thumb" src=thumb.clone() alt="" decoding="async" width="48" height="48" /> }.into_any()
                                    }
                                }
                                <span class="cell-name" title=c.name.clone()>{c.name.clone()}</span>
                                {match (c.state, c.result.clone()) {
                                    (CellState::Done, Some(r)) => {
                                        view! {
                                            <span class="cell-pred">
                                                <span class="code">{r.ranked[0].code.clone()}</span>
                                                {format!(" {:.0} %", r.ranked[0].probability * 100.0)}
                                                {move || (r.low_confidence && set_codes.get().is_none()).then(|| view! { <span class="badge warn">" not sure"</span> })}
                                                {ood.then(|| view! { <span class="badge warn ood" data-testid="ood-badge" title="Outside what this model knows">" outside"</span> })}
                                                {move || set_codes.get().map(|s| {
                                                    let n = s.len();
                                                    view! {
                                                        <span class="badge set" class:single=n == 1 class:uncalibrated=move || shifted.get()
                                                            data-testid="set-size" data-size=n.to_string()
                                                            title=move || format!("Prediction set: {}{}", s.join(", "),
                                                                if shifted.get() { " (not calibrated for these images)" } else { "" })>
                                                            {match n { 0 => " set: none at this level".to_string(), 1 => " set: 1 class".to_string(), _ => format!(" set: {n} classes") }}
                                                        </span>
                                                    }
                                                })}
                                            </span>
                                            {
                                                let label = format!("Final class for {}", c.name);
                                                let code = c.final_code().unwrap_or("").to_string();
                                                move || if heavy() {
                                                    view! {
                                                        <select class="reassign" data-testid="reassign" aria-label=label.clone()
                                                            inner_html=reassign_options(manifest.as_deref(), &code)
                                                            on:click=move |ev| ev.stop_propagation()
                                                            on:change=move |ev| {
                                                                let v = event_target_value(&ev);
                                                                state.update_cell(id, |c| c.final_class = Some(v));
                                                            }>
                                                        </select>
                                                    }.into_any()
                                                } else {
                                                    // Out of view: the final class in words, the same size as the menu.
                                                    view! { <span class="reassign placeholder">{code.clone()}</span> }.into_any()
                                                }
                                            }
                                            {
                                                let predicted = c.predicted().unwrap_or_default().to_string();
                                                let label = if confirmed { format!("{} confirmed", c.name) } else { format!("Confirm {} as {predicted}", c.name) };
                                                view! {
                                                    <button type="button" class="confirm" class:done=confirmed data-testid="confirm" aria-label=label.clone() title=label
                                                        on:click=move |ev| {
                                                            ev.stop_propagation();
                                                            confirm(state, id);
                                                        }>"✓"</button>
                                                }
                                            }
                                        }.into_any()
                                    }
                                    (CellState::Error, _) => view! {
                                        <span class="cell-error" data-testid="cell-error">{c.error.clone().unwrap_or_default()}</span>
                                    }.into_any(),
                                    (CellState::Done, None) if is_field => view! {
                                        // Tachys takes at most 26 attributes per element: the field's figures are here.
                                        <span class="cell-pred small" data-testid="field-layout"
                                            data-detect-ms=c.field_info.as_ref().map(|i| format!("{:.1}", i.detect_ms))
                                            data-field-ms=c.field_info.as_ref().map(|i| format!("{:.1}", i.ms))
                                            data-memory-mb=c.field_info.as_ref().map(|i| format!("{:.0}", i.memory_mb))>
                                            {
                                                let small = c.field_info.as_ref().map(|i| i.too_small.len()).unwrap_or(0);
                                                move || {
                                                    let n = field_cells().unwrap_or_default();
                                                    if small > 0 {
                                                        format!("Field: {n} white cell(s) classified, {small} too small to classify")
                                                    } else {
                                                        format!("Field: {n} white cell(s)")
                                                    }
                                                }
                                            }
                                        </span>
                                    }.into_any(),
                                    (s, _) => view! { <span class="muted small">{c.progress.clone().unwrap_or_else(|| s.as_str().to_string())}</span> }.into_any(),
                                }}
                                {too_small_entries(&c)}
                            </li>
                        }
                    }
                </For>
            </ul>
        </section>
    }
}

/// A field's white cells too small to classify, one entry each under the field's own entry
/// (`[data-testid=too-small]` with `data-field` and `data-box`): found and counted as white
/// cells, without a class (`crate::pipeline::TooSmall`).
fn too_small_entries(c: &Cell) -> Option<impl IntoView> {
    let info = c.field_info.as_ref().filter(|i| !i.too_small.is_empty())?;
    let name = c.name.clone();
    Some(view! {
        <ul class="too-small-list" aria-label="White cells too small to classify">
            {info.too_small.iter().enumerate().map(|(k, &[x, y, w, h])| view! {
                <li class="too-small" data-testid="too-small" data-field=name.clone() data-box=format!("{x},{y},{w},{h}")
                    title=format!("Box {x},{y},{w},{h}: too small to classify; take the picture at a higher magnification")>
                    <span class="code">"WBC"</span>
                    {format!(" White cell {} — too small to classify", k + 1)}
                </li>
            }).collect_view()}
        </ul>
    })
}

/// The person confirms cell `id`'s class: the final class is the one shown (the model's, or the
/// one the person already chose). Confirmed cells calibrate the sets to the laboratory
/// (`super::lab`).
fn confirm(state: AppState, id: u32) {
    if state.cell_untracked(id).is_some_and(|c| c.state == CellState::Done && c.final_class.is_none() && c.result.is_some()) {
        state.update_cell(id, |c| c.final_class = c.predicted().map(str::to_string));
    }
}

/// Keyboard reassignment as on manual counters: with a cell selected, a class's key
/// sets its final class (and confirms it), Enter confirms the class shown; J/K or arrows move
/// through the batch.
pub fn listen_for_counter_keys(state: AppState) {
    let handle = window_event_listener(leptos::ev::keydown, move |ev: web_sys::KeyboardEvent| {
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let tag =
            ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).map(|e| e.tag_name().to_ascii_lowercase()).unwrap_or_default();
        if matches!(tag.as_str(), "input" | "select" | "textarea") {
            return;
        }
        // Only where the batch is shown: Learn has its own class keys.
        if !matches!(state.tab.get_untracked(), super::state::Tab::Classify | super::state::Tab::Count) {
            return;
        }
        let Some(id) = state.selected.get_untracked() else { return };
        let key = ev.key();
        let ids: Vec<u32> = state.cells.with_untracked(|c| c.iter().map(|c| c.id).collect());
        let pos = ids.iter().position(|&x| x == id);
        match key.as_str() {
            "j" | "ArrowDown" if tag != "div" => {
                if let Some(p) = pos {
                    if p + 1 < ids.len() {
                        state.selected.set(Some(ids[p + 1]));
                        ev.prevent_default();
                    }
                }
            }
            "k" | "ArrowUp" if tag != "div" => {
                if let Some(p) = pos {
                    if p > 0 {
                        state.selected.set(Some(ids[p - 1]));
                        ev.prevent_default();
                    }
                }
            }
            // Enter on the list (not on a button or link, which Enter activates).
            "Enter" if matches!(tag.as_str(), "li" | "body" | "ul") => {
                confirm(state, id);
                ev.prevent_default();
            }
            "Delete" | "Backspace" if state.cell(id).is_some_and(|c| c.field.is_some()) => {
                engine::remove_cell(id);
                ev.prevent_default();
            }
            k if k.chars().count() == 1 => {
                let Some(ch) = k.chars().next() else { return };
                if let Some(class) = taxonomy::by_key(ch) {
                    if state.cell(id).is_some_and(|c| c.state == CellState::Done && c.result.is_some()) {
                        state.update_cell(id, |c| c.final_class = Some(class.code.to_string()));
                        ev.prevent_default();
                    }
                }
            }
            _ => {}
        }
    });
    std::mem::forget(handle);
}
