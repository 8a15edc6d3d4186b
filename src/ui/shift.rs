//! The batch's shift warning on the page (`crate::uncertainty::shift`): whether the cells of
//! this session, as a whole, differ from the images the sets were calibrated on: the project's
//! validation images (the manifest's `ood.batch_shift`) or, with a laboratory profile for this
//! model, the laboratory's own confirmed cells.
//!
//! `[data-testid=shift]` has `data-state` `ok` | `shifted` | `too-few` and `data-score` (the batch
//! statistic, when judged); `data-reference` says what it is compared with (`model` | `lab`).

use super::state::AppState;
use crate::uncertainty::shift::{self, ShiftState};
use leptos::prelude::*;

/// The batch's state and what it was compared with (`"model"` or `"lab"`), shared through context;
/// `None` for a model without a batch shift threshold.
#[derive(Clone, Copy)]
pub struct BatchShift(pub Memo<Option<(ShiftState, &'static str)>>);

/// Makes the batch's state and provides it to the page.
pub fn provide(state: AppState) {
    let memo = Memo::new(move |_| {
        let m = state.manifest()?;
        let spec = m.ood.as_ref()?.batch_shift.clone()?;
        let lab = state.lab.get();
        let lab = crate::session::export::lab_for(Some(&m), lab.as_deref());
        let (ratios, source) = state.cells.with(|cells| {
            let results: Vec<_> = cells.iter().filter_map(|c| c.result.as_ref()).collect();
            let ratios: Vec<f32> = results.iter().filter_map(|r| r.ood.map(|o| o.ratio())).collect();
            let source = shift::majority(results.iter().filter_map(|r| r.source.as_ref().map(|g| g.source.as_str()))).map(str::to_string);
            (ratios, source)
        });
        let (threshold, reference) = match lab.and_then(|p| p.shift_threshold(spec.batch)) {
            Some(t) => (t, "lab"),
            None => (spec.threshold_for(source.as_deref()), "model"),
        };
        Some((shift::judge(&ratios, spec.batch, threshold), reference))
    });
    provide_context(BatchShift(memo));
}

/// Whether the batch is shifted (and the sets, calibrated elsewhere, are not to be trusted).
pub fn shifted() -> Signal<bool> {
    let memo = use_context::<BatchShift>().map(|b| b.0);
    Signal::derive(move || memo.is_some_and(|m| m.get().is_some_and(|(s, _)| matches!(s, ShiftState::Shifted { .. }))))
}

/// The notice above the list.
#[component]
pub fn ShiftNotice() -> impl IntoView {
    let Some(BatchShift(memo)) = use_context::<BatchShift>() else { return ().into_any() };
    view! {
        {move || memo.get().map(|(s, reference)| {
            let score = s.score().map(|v| format!("{v:.3}"));
            let against = if reference == "lab" { "your laboratory's confirmed cells" } else { "the images the model learned from" };
            let (class, text) = match s {
                ShiftState::TooFew { n, need } => ("shift muted small", format!(
                    "From {need} cells on, this batch is compared with {against} ({n} so far).")),
                ShiftState::Ok { .. } => ("shift small", format!("These cells look like {against}: the prediction sets apply.")),
                ShiftState::Shifted { .. } if reference == "lab" => ("shift warn", format!(
                    "These images differ from {against}: the prediction sets, calibrated on those, are not calibrated for them. \
                     Confirm some of these cells and calibrate again.")),
                ShiftState::Shifted { .. } => ("shift warn", "These images differ from the ones the model learned from; its prediction sets are not calibrated for them. \
                     Confirm some cells to calibrate for your laboratory.".to_string()),
            };
            view! {
                <p class=class data-testid="shift" data-state=s.key() data-score=score data-reference=reference
                    role=if matches!(s, ShiftState::Shifted { .. }) { Some("status") } else { None }>{text}</p>
            }
        })}
    }
    .into_any()
}
