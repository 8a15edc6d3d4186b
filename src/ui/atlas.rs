//! The atlas: all 21 MLL classes with lineage, description, examples where
//! images exist, and whether the loaded model can recognise each.

use super::state::{AppState, GalleryState};
use crate::taxonomy::{self, Lineage};
use leptos::prelude::*;

#[component]
pub fn Atlas() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lineages = [
        Lineage::Progenitor,
        Lineage::Myeloid,
        Lineage::Erythroid,
        Lineage::Monocytic,
        Lineage::Lymphoid,
        Lineage::Thrombocytic,
        Lineage::NonCell,
    ];
    view! {
        <section class="atlas" aria-labelledby="atlas-title">
            <h2 id="atlas-title">"Atlas of the 21 MLL bone-marrow classes"</h2>
            <p class="muted">{move || match state.manifest() {
                Some(m) => format!("The loaded model ({}) recognises {} of the 21 classes, marked ✓{}. The others (✗) it cannot output: such a cell will be given the closest known class, shown with a wider prediction set or a “not sure” flag, but not always.", m.model_id, m.classes.iter().filter(|c| taxonomy::is_mll(c)).count(), if m.classes.iter().any(|c| !taxonomy::is_mll(c)) { ", and platelets (not an MLL class)" } else { "" }),
                None => "The model is not loaded yet.".to_string(),
            }}</p>
            {lineages.into_iter().map(|lin| view! {
                <h3>{lin.label()}</h3>
                <div class="atlas-grid">
                    {taxonomy::all().filter(|c| c.lineage == lin).map(|c| {
                        let code = c.code;
                        let known = move || state.manifest().is_some_and(|m| m.knows(code));
                        let examples = move || match state.gallery.get() {
                            // Up to 2 bone-marrow and 2 peripheral-blood examples.
                            GalleryState::Ready(items) => ["marrow", "blood"]
                                .into_iter()
                                .flat_map(|src| items.iter().filter(move |i| i.label == code && i.source_or_marrow() == src).take(2))
                                .cloned()
                                .collect::<Vec<_>>(),
                            _ => vec![],
                        };
                        view! {
                            <article class="atlas-card" data-testid="atlas-class" data-code=code data-known=move || known().to_string()>
                                <header>
                                    <span class="code">{code}</span>" "<strong>{c.name}</strong>
                                    <span class="badge" class:ok=known class:no=move || !known()
                                        title=move || if known() { "The loaded model recognises this class" } else { "The loaded model cannot recognise this class" }>
                                        {move || if known() { "✓ model knows" } else { "✗ not in model" }}
                                    </span>
                                </header>
                                <p>{c.description}</p>
                                {move || state.manifest().and_then(|m| m.learned_from(code)).map(|t| view! {
                                    <p class="learned small" data-testid="learned-from">{format!("Loaded model: {t}.")}</p>
                                })}
                                <div class="examples">
                                    {move || {
                                        let ex = examples();
                                        if ex.is_empty() { view! { <span class="muted small">"No example image in this build."</span> }.into_any() }
                                        else { ex.into_iter().map(|i| {
                                            let text = format!("Example of {} ({})", c.name, i.source_text());
                                            view! { <img src=format!("gallery/{}", i.file) alt=text.clone() title=text data-source=i.source_or_marrow().to_string() width="72" height="72" loading="lazy" /> }
                                        }).collect_view().into_any() }
                                    }}
                                </div>
                            </article>
                        }
                    }).collect_view()}
                </div>
            }).collect_view()}
        </section>
    }
}
