//! The Count tab: the differential against adult reference intervals (bone marrow or peripheral
//! blood, as the person says), a chart of it, the classes the model cannot name, exports, and a
//! report to print. The intervals and every judgement on them are in the core
//! (`crate::count::reference`); this is a thin layer over it.

use super::batch::download;
use super::state::AppState;
use super::{about, uncertainty};
use crate::count::reference::{self, CountKind, Flag, Interval};
use crate::count::{self, CellRecord, CountRow};
use crate::session::export::records;
use crate::taxonomy;
use leptos::prelude::*;

/// One row of the table and the chart: a class with its interval and flag.
#[derive(Debug, Clone, PartialEq)]
struct RefRow {
    row: CountRow,
    interval: Option<Interval>,
    flag: Flag,
}

fn pct(v: f64) -> String {
    if v == v.round() {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn range_text(i: &Interval) -> String {
    if i.high == 0.0 {
        "0 (none)".to_string()
    } else {
        format!("{}–{}", pct(i.low), pct(i.high))
    }
}

fn flag_mark(f: Flag) -> &'static str {
    match f {
        Flag::High => "▲ ",
        Flag::Low => "▼ ",
        _ => "",
    }
}

/// The date and time now, as the report says it.
fn today() -> String {
    let d = js_sys::Date::new_0();
    String::from(d.to_locale_string("en-GB", &wasm_bindgen::JsValue::UNDEFINED))
}

#[component]
pub fn Differential() -> impl IntoView {
    let state = expect_context::<AppState>();
    let level = uncertainty::coverage();
    let classes = move || state.manifest().map(|m| m.classes.clone()).unwrap_or_default();
    // Built once per change of the list, for the table, the chart and the summary alike.
    let all = Memo::new(move |_| {
        let m = state.manifest();
        state.cells.with(|cells| records(cells, m.as_deref(), state.lab.get().as_deref(), level.get()))
    });
    let rows = Memo::new(move |_| all.with(|recs| count::differential(recs, &classes())));
    let total = Memo::new(move |_| rows.get().iter().map(|r| r.count).sum::<usize>());
    // What the count is from: the person's choice, else what most cells look like.
    let estimate = Memo::new(move |_| {
        state
            .cells
            .with(|cells| CountKind::estimate(cells.iter().filter_map(|c| c.result.as_ref()?.source.as_ref().map(|s| s.source.as_str()))))
    });
    let kind = Memo::new(move |_| state.count_kind.get().unwrap_or_else(|| estimate.get()));
    let ref_rows = Memo::new(move |_| {
        let k = kind.get();
        let n = total.get();
        rows.get()
            .into_iter()
            .map(|row| {
                let interval = reference::row_interval(k, &row.code).copied();
                let flag = if n > 0 { reference::flag(row.percent, interval.as_ref()) } else { Flag::None };
                RefRow { row, interval, flag }
            })
            .collect::<Vec<_>>()
    });
    let groups = Memo::new(move |_| reference::groups(kind.get(), &rows.get(), &classes()));
    let sets = Memo::new(move |_| {
        all.with(|recs| {
            let with_set: Vec<&CellRecord> = recs.iter().filter(|r| r.coverage.is_some()).collect();
            let single = with_set.iter().filter(|r| r.prediction_set.len() == 1).count();
            let mean = if with_set.is_empty() {
                0.0
            } else {
                with_set.iter().map(|r| r.prediction_set.len()).sum::<usize>() as f64 / with_set.len() as f64
            };
            let ood = recs.iter().filter(|r| r.ood == Some(true)).count();
            (with_set.len(), single, mean, ood)
        })
    });
    let reviewed = Memo::new(move |_| {
        all.with(|recs| {
            let cells: Vec<&CellRecord> = recs.iter().filter(|r| !r.too_small).collect();
            let reassigned = cells.iter().filter(|r| r.corrected()).count();
            (cells.len() - reassigned, reassigned)
        })
    });
    // White cells found in fields but too small to classify: a row of their own, outside the
    // percentages of the classified classes.
    let too_small = Memo::new(move |_| all.with(|recs| count::too_small_count(recs)));
    let missing = Memo::new(move |_| reference::missing_classes(&classes()));
    let model_id = move || state.manifest().map(|m| m.model_id.clone()).unwrap_or_default();
    let export_csv = move |_| {
        let m = state.manifest();
        let recs = state.cells.with_untracked(|c| records(c, m.as_deref(), state.lab.get_untracked().as_deref(), level.get_untracked()));
        download("marrowscope-count.csv", "text/csv", &count::to_csv(&recs, &model_id()));
    };
    let export_json = move |_| {
        let m = state.manifest();
        let recs = state.cells.with_untracked(|c| records(c, m.as_deref(), state.lab.get_untracked().as_deref(), level.get_untracked()));
        download("marrowscope-count.json", "application/json", &count::to_json(&recs, &model_id(), &classes()));
    };
    let printed = RwSignal::new(String::new());
    let print = move |_| {
        printed.set(today());
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };
    let set_kind = move |k: CountKind| state.count_kind.set(Some(k));
    view! {
        <section class="differential report" aria-labelledby="diff-title">
            <h2 id="diff-title">"Differential count"</h2>
            <p class="report-meta small" data-testid="report-meta">
                {move || {
                    let session = state.session.get().map(|s| s.name).unwrap_or_default();
                    let model = state.manifest().map(|m| format!("{} version {}", m.model_id, m.version)).unwrap_or_else(|| "no model loaded".into());
                    let (kept, reassigned) = reviewed.get();
                    let made = printed.get();
                    let made = if made.is_empty() { today() } else { made };
                    format!(
                        "Session {session} · report of {made} · model {model} · prediction sets at {} % coverage · {reassigned} of {} cells reassigned by the person, {kept} kept as the model classified them",
                        level.get().percent(),
                        kept + reassigned
                    )
                }}
            </p>
            <fieldset class="count-kind" data-testid="count-kind" data-kind=move || kind.get().as_str()
                data-kind-from=move || if state.count_kind.get().is_some() { "person" } else { "estimate" }>
                <legend>"This count is from"</legend>
                {[CountKind::Marrow, CountKind::Blood].into_iter().map(|k| view! {
                    <label class="kind-choice">
                        <input type="radio" name="count-kind" id=format!("count-kind-{}", k.as_str()) value=k.as_str()
                            prop:checked=move || kind.get() == k on:change=move |_| set_kind(k) />
                        " "{k.words()}
                    </label>
                }).collect_view()}
                <span class="small muted kind-from">{move || if state.count_kind.get().is_some() {
                    "(your choice)".to_string()
                } else if total.get() == 0 {
                    "(bone-marrow aspirate until there are cells to tell from; choose if it is not)".to_string()
                } else {
                    format!("(estimated from the cells: they look like {}; choose if it is not)", estimate.get().words().to_lowercase())
                }}</span>
            </fieldset>
            <div class="count-body">
                <table class="count-table">
                    <caption class="visually-hidden">{move || format!("Differential count of {} cells against adult {} reference intervals", total.get(), kind.get().words().to_lowercase())}</caption>
                    <thead><tr><th scope="col">"Class"</th><th scope="col">"Cells"</th><th scope="col">"%"</th><th scope="col">"Reference %"</th><th scope="col">"Against it"</th><th scope="col" class="key">"Key"</th></tr></thead>
                    <tbody>
                        <For each=move || ref_rows.get() key=|r| (r.row.code.clone(), r.row.count, (r.row.percent * 1000.0).round() as i64, r.flag, r.interval.map(|i| ((i.low * 10.0) as i64, (i.high * 10.0) as i64))) let:r>
                            <tr data-testid="count-row" data-code=r.row.code.clone() data-count=r.row.count.to_string() data-percent=format!("{:.2}", r.row.percent)
                                data-ref-low=r.interval.map(|i| pct(i.low)) data-ref-high=r.interval.map(|i| pct(i.high)) data-flag=r.flag.as_str()
                                class=format!("flag-{}", r.flag.as_str())>
                                <th scope="row"><span class="code">{r.row.code.clone()}</span>" "{taxonomy::name_of(&r.row.code).to_string()}</th>
                                <td>{r.row.count}</td>
                                <td class="pct">{flag_mark(r.flag)}{format!("{:.1}", r.row.percent)}</td>
                                <td class="ref">{r.interval.as_ref().map(range_text).unwrap_or_else(|| "—".into())}</td>
                                <td class="flag-words">{r.flag.words()}</td>
                                <td class="key"><kbd>{taxonomy::by_code(&r.row.code).map(|c| c.key.to_string()).unwrap_or_default()}</kbd></td>
                            </tr>
                        </For>
                        {move || {
                            let n = too_small.get();
                            (n > 0).then(|| view! {
                                <tr class="too-small-row" data-testid="count-row" data-code="WBC" data-count=n.to_string() data-too-small="true" data-flag="none">
                                    <th scope="row"><span class="code">"WBC"</span>" White cells not classified (too small)"</th>
                                    <td>{n}</td>
                                    <td title="Not in the percentages: take the picture at a higher magnification">"—"</td>
                                    <td></td>
                                    <td></td>
                                    <td class="key"></td>
                                </tr>
                            })
                        }}
                    </tbody>
                    <tbody class="groups">
                        <For each=move || groups.get() key=|g| (g.interval.label, g.count, (g.percent * 1000.0).round() as i64, g.flag) let:g>
                            <tr class=format!("group-row flag-{}", g.flag.as_str()) data-testid="count-group" data-codes=g.present.join(",") data-count=g.count.to_string()
                                data-percent=format!("{:.2}", g.percent) data-ref-low=pct(g.interval.low) data-ref-high=pct(g.interval.high) data-flag=g.flag.as_str()>
                                <th scope="row">{g.interval.label}" ("{g.present.join(" + ")}")"</th>
                                <td>{g.count}</td>
                                <td class="pct">{flag_mark(g.flag)}{format!("{:.1}", g.percent)}</td>
                                <td class="ref">{range_text(&g.interval)}</td>
                                <td class="flag-words">{g.flag.words()}</td>
                                <td class="key"></td>
                            </tr>
                        </For>
                    </tbody>
                    <tfoot><tr><th scope="row">"Total"</th><td>{move || total.get()}</td><td>"100"</td><td></td><td></td><td class="key"></td></tr></tfoot>
                </table>
                {move || chart(&ref_rows.get(), kind.get())}
            </div>
            <div class="count-notes">
                {move || (kind.get() == CountKind::Marrow).then(|| {
                    let r = reference::me_ratio(&rows.get());
                    let (lo, hi) = reference::ME_RATIO;
                    let f = reference::me_flag(r);
                    view! {
                        <p class=format!("small flag-{}", f.as_str()) data-testid="me-ratio" data-ratio=r.map(|v| format!("{v:.2}")).unwrap_or_default() data-flag=f.as_str()>
                            {match r {
                                Some(v) => format!("Myeloid:erythroid ratio {}{v:.1}:1 ({}reference {lo}–{hi}:1).", flag_mark(f), if f.words().is_empty() { String::new() } else { format!("{}; ", f.words()) }),
                                None => format!("Myeloid:erythroid ratio: no erythroid cell counted (reference {lo}–{hi}:1)."),
                            }}
                        </p>
                    }
                })}
                {move || {
                    let blasts = rows.get().iter().find(|r| r.code == "BLA").map(|r| r.percent);
                    (total.get() > 0).then(|| blasts.map(|p| view! {
                        <p class="small blasts-note" data-testid="blasts-note" data-percent=format!("{p:.2}")>{reference::blasts_words(kind.get(), p)}</p>
                    }))
                }}
                {move || {
                    let n = total.get();
                    let need = if kind.get() == CountKind::Marrow { 500 } else { 100 };
                    (n > 0 && n < need).then(|| view! {
                        <p class="small muted" data-testid="small-count">{format!(
                            "Only {n} cells: a {} differential counts at least {need}; with fewer, percentages are rough and a flag can come from chance alone.",
                            if need == 500 { "bone-marrow" } else { "blood-film" }
                        )}</p>
                    })
                }}
                {move || {
                    // Images that are not white cells are in the total: say so, with their number.
                    let not_wbc: Vec<(String, usize)> = rows
                        .get()
                        .into_iter()
                        .filter(|r| r.count > 0 && reference::NOT_WHITE_CELLS.contains(&r.code.as_str()))
                        .map(|r| (r.code, r.count))
                        .collect();
                    let n: usize = not_wbc.iter().map(|(_, k)| k).sum();
                    (n > 0).then(|| view! {
                        <p class="small" data-testid="not-white-cells" data-count=n.to_string()>{format!(
                            "{n} of the {} are not white cells ({}): they are in the total, so every white cell's percentage is lower than in a differential of white cells alone. Reassign them if the model was wrong.",
                            total.get(),
                            not_wbc.iter().map(|(c, k)| format!("{k} {}", taxonomy::name_of(c).to_lowercase())).collect::<Vec<_>>().join(", ")
                        )}</p>
                    })
                }}
                {move || {
                    let m = missing.get();
                    (!m.is_empty()).then(|| view! {
                        <p class="small missing" data-testid="count-missing" data-codes=m.join(",")>
                            <strong>"Not in this count: "</strong>
                            {format!(
                                "the model cannot name {} of the 21 MLL classes ({}). Such cells are counted as another class or not at all, so a count that looks normal here is not a complete differential.",
                                m.len(),
                                m.iter().map(|c| format!("{c} {}", taxonomy::name_of(c).to_lowercase())).collect::<Vec<_>>().join(", ")
                            )}
                        </p>
                    })
                }}
                <p class="small sources" data-testid="reference-sources">
                    <strong>{move || format!("Reference intervals ({}, healthy adults): ", kind.get().words().to_lowercase())}</strong>
                    {move || reference::sources(kind.get()).join("; ")}
                    ". Every laboratory sets its own intervals; classes without one are marked —."
                </p>
            </div>
            <p class="small set-summary" data-testid="set-summary" data-with-set=move || sets.get().0.to_string()
                data-single=move || sets.get().1.to_string() data-ood=move || sets.get().3.to_string()>
                {move || {
                    let (n, single, mean, ood) = sets.get();
                    let l = level.get();
                    if n == 0 { String::new() } else {
                        format!("Prediction sets at {} % coverage: {single} of {n} cells have a single class; mean set size {mean:.2}. Outside what the model knows: {ood}.", l.percent())
                    }
                }}
            </p>
            <div class="export no-print">
                <button class="button" id="export-csv" on:click=export_csv disabled=move || total.get() + too_small.get() == 0>"Export CSV"</button>
                <button class="button" id="export-json" on:click=export_json disabled=move || total.get() + too_small.get() == 0>"Export JSON"</button>
                <button class="button" id="print-report" data-testid="print-report" on:click=print disabled=move || total.get() == 0>"Print report"</button>
            </div>
            <p class="muted small no-print">"Select a cell, then press its class key to reassign it (J/K move through the list). Percentages use the final classes. "
                "Print report makes one page (the browser's \u{201c}Save as PDF\u{201d} gives a PDF)."</p>
            <div class="print-only small report-sources">
                <p>{"Cell images and model training data: "}{about::CITATION}" doi:10.7937/TCIA.AXH3-T579 (CC BY 4.0). "
                    {about::PBC_CITATION}" doi:10.17632/snkd93bnjr.1 (CC BY 4.0)."</p>
            </div>
            <p class="small disclaimer" data-testid="disclaimer">
                "Teaching and research tool, not a medical device and not a diagnosis: every class is a model's suggestion that a person reviews, "
                "and the reference intervals are for healthy adults and differ between laboratories."
            </p>
        </section>
    }
}

/// The differential as bars, each over its reference band (an SVG the page draws; colours from
/// the theme's variables, so it reads in light, dark and print).
fn chart(rows: &[RefRow], kind: CountKind) -> impl IntoView {
    let shown: Vec<&RefRow> = rows.iter().filter(|r| r.row.count > 0 || r.interval.is_some_and(|i| i.high > 0.0)).collect();
    let max = shown.iter().map(|r| r.row.percent.max(r.interval.map(|i| i.high).unwrap_or(0.0))).fold(10.0f64, f64::max);
    let max = (max / 10.0).ceil() * 10.0;
    let (left, width, row_h, top) = (44.0, 250.0, 18.0, 16.0);
    let height = top + row_h * shown.len() as f64 + 6.0;
    let x = move |p: f64| left + width * p / max;
    let ticks: Vec<f64> = (0..=((max / 10.0) as usize)).map(|k| k as f64 * 10.0).filter(|t| max <= 50.0 || (*t as i64) % 20 == 0).collect();
    let label = format!(
        "Chart: percentage of each class (bars) against the adult {} reference interval (shaded band behind each bar)",
        kind.words().to_lowercase()
    );
    let title = label.clone();
    view! {
        <figure class="count-chart" data-testid="count-chart" data-bars=shown.len().to_string()>
            <svg viewBox=format!("0 0 {} {height}", left + width + 40.0) role="img" aria-label=label>
                <title>{title}</title>
                {ticks.into_iter().map(|t| view! {
                    <g class="tick">
                        <line x1=x(t) x2=x(t) y1=top - 4.0 y2=height - 4.0 />
                        <text x=x(t) y=top - 6.0 text-anchor="middle">{format!("{t:.0}")}</text>
                    </g>
                }).collect_view()}
                {shown.iter().enumerate().map(|(k, r)| {
                    let y = top + row_h * k as f64;
                    let band = r.interval.filter(|i| i.high > 0.0).map(|i| view! {
                        <rect class="ref-band" x=x(i.low) y=y + 1.0 width=(x(i.high) - x(i.low)).max(1.5) height=row_h - 2.0 />
                    });
                    view! {
                        <g class=format!("chart-row flag-{}", r.flag.as_str()) data-code=r.row.code.clone()>
                            <text class="chart-label" x=left - 6.0 y=y + row_h * 0.7 text-anchor="end">{r.row.code.clone()}</text>
                            {band}
                            <rect class="chart-bar" x=left y=y + 5.0 width=(x(r.row.percent) - left).max(0.0) height=row_h - 10.0 />
                            <text class="chart-value" x=x(r.row.percent) + 4.0 y=y + row_h * 0.7>{format!("{:.1}", r.row.percent)}</text>
                        </g>
                    }
                }).collect_view()}
            </svg>
            <figcaption class="small muted">"Bars: this count (%). Shaded: adult reference interval. ▲/▼ and colour: above/below it."</figcaption>
        </figure>
    }
}
