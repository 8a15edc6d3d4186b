//! The atlas: all 21 MLL classes with lineage, description, examples where
//! images exist, and whether the loaded model can recognise each.

use super::learn::{LearnState, TeachingSet};
use super::state::{label_name, AppState, GalleryState};
use crate::taxonomy::{self, Lineage};
use leptos::prelude::*;

/// Example images of a class: the gallery's, then the teaching set's when Learn has loaded it.
fn examples_of(state: AppState, learn: LearnState, code: &str, n: usize) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    if let GalleryState::Ready(items) = state.gallery.get() {
        out.extend(items.iter().filter(|i| i.label == code).map(|i| (format!("gallery/{}", i.file), i.source_or_marrow().to_string())));
    }
    if let TeachingSet::Ready(items) = learn.set.get() {
        // Both sets name an image `<dataset>-<CODE>-<original>`: the same image once.
        let teaching: Vec<(String, String)> = items
            .iter()
            .filter(|i| i.label == code && !out.iter().any(|(g, _)| g.rsplit('/').next() == Some(i.file.as_str())))
            .map(|i| (format!("teaching/{}", i.file), i.source.clone()))
            .collect();
        out.extend(teaching);
    }
    // Both specimens when there are both: alternate marrow and blood.
    let (marrow, blood): (Vec<_>, Vec<_>) = out.into_iter().partition(|(_, s)| s == "marrow");
    let mut mixed = Vec::new();
    let (mut m, mut b) = (marrow.into_iter(), blood.into_iter());
    while mixed.len() < n {
        match (m.next(), b.next()) {
            (None, None) => break,
            (x, y) => mixed.extend(x.into_iter().chain(y)),
        }
    }
    mixed.truncate(n);
    mixed
}

/// Two classes side by side with several examples each, the pairs most confused (by this student
/// in Learn, and by the model on the cells they saw) offered first.
#[component]
fn Compare() -> impl IntoView {
    let state = expect_context::<AppState>();
    let learn = expect_context::<LearnState>();
    let has = move |c: &str| !examples_of(state, learn, c, 1).is_empty();
    let pairs = Memo::new(move |_| learn.progress.with(|p| crate::learn::pairs::ranked(p, has)));
    let pick = RwSignal::new(None::<(String, String)>);
    let shown = move || pick.get().or_else(|| pairs.with(|p| p.first().cloned()));
    let codes: Vec<&'static str> = taxonomy::all().map(|c| c.code).collect();
    let codes2 = codes.clone();
    view! {
        <section class="compare" data-testid="compare" aria-labelledby="compare-title">
            <h3 id="compare-title">"Compare two classes"</h3>
            <p class="small muted">"The pairs you (in Learn) and the model confuse most come first; then cells that look alike."</p>
            <div class="compare-pairs small">
                {move || pairs.get().into_iter().take(6).map(|(a, b)| {
                    let (a2, b2) = (a.clone(), b.clone());
                    view! { <button class="button" data-testid="compare-pair" data-a=a.clone() data-b=b.clone()
                        on:click=move |_| pick.set(Some((a2.clone(), b2.clone())))>{format!("{a} / {b}")}</button> }
                }).collect_view()}
            </div>
            <div class="compare-select small">
                <select id="compare-a" aria-label="First class" on:change=move |ev| { let b = shown().map(|s| s.1).unwrap_or_default(); pick.set(Some((event_target_value(&ev), b))); }>
                    {codes.iter().map(|c| { let c = *c; view! { <option value=c selected=move || shown().is_some_and(|s| s.0 == c)>{format!("{c} — {}", label_name(c))}</option> } }).collect_view()}
                </select>
                " vs "
                <select id="compare-b" aria-label="Second class" on:change=move |ev| { let a = shown().map(|s| s.0).unwrap_or_default(); pick.set(Some((a, event_target_value(&ev)))); }>
                    {codes2.iter().map(|c| { let c = *c; view! { <option value=c selected=move || shown().is_some_and(|s| s.1 == c)>{format!("{c} — {}", label_name(c))}</option> } }).collect_view()}
                </select>
            </div>
            <div class="compare-sides">
                {move || shown().map(|(a, b)| [a, b].into_iter().map(|code| {
                    let ex = examples_of(state, learn, &code, 6);
                    let n_ex = ex.len();
                    let desc = taxonomy::by_code(&code).map(|c| c.description).unwrap_or("");
                    view! {
                        <article class="atlas-card" data-testid="compare-side" data-code=code.clone() data-examples=n_ex.to_string()>
                            <header><span class="code">{code.clone()}</span>" "<strong>{label_name(&code).to_string()}</strong></header>
                            <p class="small">{desc}</p>
                            <div class="examples">
                                {if ex.is_empty() { view! { <span class="muted small">"No example image in this build."</span> }.into_any() } else {
                                    ex.into_iter().map(|(src, source)| view! { <img src=src alt=format!("Example of {}", label_name(&code)) data-source=source width="96" height="96" loading="lazy" /> }).collect_view().into_any()
                                }}
                            </div>
                        </article>
                    }
                }).collect_view())}
            </div>
        </section>
    }
}

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
            <Compare />
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
