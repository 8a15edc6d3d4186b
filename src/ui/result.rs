//! The result panel: top classes with probability bars, names, descriptions,
//! and a clear "not sure" state.

use super::state::{AppState, CellState};
use super::uncertainty;
use crate::taxonomy;
use leptos::prelude::*;

#[component]
pub fn ResultPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let cell = Memo::new(move |_| state.selected.get().and_then(|id| state.cell(id)));
    let level = uncertainty::coverage();
    let shifted = super::shift::shifted();
    move || {
        let c = cell.get()?;
        Some(match (c.state, c.result.clone(), c.error.clone()) {
            (CellState::Done, Some(r), _) => {
                let top = r.ranked[0].clone();
                let threshold = state.manifest().map(|m| m.low_confidence_threshold).unwrap_or(0.0);
                let description = taxonomy::by_code(&top.code).map(|c| c.description).unwrap_or("");
                let manifest = state.manifest();
                let ood = r.ood.is_some_and(|o| o.flagged);
                let ood_notice = uncertainty::ood_view(manifest.as_deref(), &r);
                let lab = state.lab.get();
                let set = uncertainty::set_view(manifest.as_deref(), lab.as_deref(), &r, level.get(), shifted.get());
                // With a calibrated prediction set, the set is the statement of confidence; the old
                // max-probability "not sure" rule is shown only for models without one.
                let has_set = uncertainty::set_of(manifest.as_deref(), &r, level.get()).is_some();
                view! {
                    <section class="result" data-testid="result" data-code=top.code.clone() data-low-confidence=r.low_confidence.to_string()
                        data-ood=ood.to_string() aria-live="polite">
                        <h2 class="file-name" title=c.name.clone()>{c.name.clone()}</h2>
                        {r.layout.clone().map(|l| view! { <p class="muted small layout-note" data-testid="layout">{l}</p> })}
                        {c.field.clone().map(|f| view! {
                            <p class="muted small layout-note" data-testid="layout">
                                {format!("A white cell of the field {} (box {}{}); the model saw the crop below the field.", f.field_name, f.box_text(), if f.added { ", added by you" } else { "" })}
                            </p>
                        })}
                        {ood_notice}
                        {set}
                        {(r.low_confidence && !has_set).then(|| view! {
                            <div class="not-sure" role="status" data-testid="not-sure">
                                <strong>"Not sure. "</strong>
                                {format!("The best guess has only {:.0} % probability (below the model's {:.0} % threshold). \
                                    The image may show a cell type this model does not know, or come from another scanner or stain. Review it yourself.",
                                    top.probability * 100.0, threshold * 100.0)}
                            </div>
                        })}
                        // A div: a <p> in large bold type reads as a heading that is not one (axe p-as-heading).
                        <div class="top-class"><span class="code">{top.code.clone()}</span>" "{top.name.clone()}
                            {manifest.as_deref().and_then(|m| m.learned_from(&top.code)).map(|t| view! {
                                " "<span class="learned muted small" data-testid="learned-from">{format!("({t})")}</span>
                            })}
                        </div>
                        <p class="description">{description}</p>
                        <ol class="ranked">
                            {r.ranked.iter().take(3).map(|k| {
                                let pct = k.probability * 100.0;
                                view! {
                                    <li data-testid="result-row" data-code=k.code.clone()>
                                        <span class="bar-label"><span class="code">{k.code.clone()}</span>" "{k.name.clone()}</span>
                                        <span class="bar" role="meter" aria-valuemin="0" aria-valuemax="100" aria-valuenow=format!("{pct:.1}") aria-label=format!("{} probability", k.name)>
                                            <span class="fill" style:width=format!("{pct:.1}%")></span>
                                        </span>
                                        <span class="pct">{format!("{pct:.1} %")}</span>
                                    </li>
                                }
                            }).collect_view()}
                        </ol>
                        <p class="muted small">{format!("{} · {}×{} px · classified in {:.0} ms", r.format, r.width, r.height, r.ms)}</p>
                    </section>
                }.into_any()
            }
            (CellState::Error, _, err) => view! {
                <section class="result error-result" data-testid="result-error" role="alert">
                    <h2 class="file-name">{c.name.clone()}</h2>
                    <p>{err.unwrap_or_default()}</p>
                </section>
            }.into_any(),
            (CellState::Done, None, _) if c.field_info.is_some() => {
                let info = c.field_info.clone();
                view! {
                    <section class="result" data-testid="field-result" aria-live="polite">
                        <h2 class="file-name" title=c.name.clone()>{c.name.clone()}</h2>
                        <p data-testid="layout">{info.as_ref().map(|i| i.layout.clone())}</p>
                        <p class="muted small">{info.as_ref().map(|i| format!("{} · {}×{} px · cells found in {:.0} ms, all classified in {:.0} ms", i.format, i.width, i.height, i.detect_ms, i.ms))}</p>
                        <p class="muted small">"Each white cell is in the list below the field's entry and in the count. Select a box on the field to see its crop and result."</p>
                    </section>
                }.into_any()
            }
            (s, _, _) => view! {
                <section class="result"><h2 class="file-name">{c.name.clone()}</h2><p class="muted">{c.progress.clone().unwrap_or_else(|| format!("{}…", s.as_str()))}</p></section>
            }.into_any(),
        })
    }
}
