//! Prediction sets and the out-of-distribution flag on the page: the coverage level the person
//! chose (context), its selector, and the views the result panel and the batch list share. The
//! logic is in the core (`crate::uncertainty::conformal`, `crate::uncertainty::ood`); this is a
//! thin layer over it.

use crate::manifest::Manifest;
use crate::results::CellResult;
use crate::taxonomy;
use crate::uncertainty::conformal::{Level, PredictionSet, LEVELS};
use crate::uncertainty::lab::LabProfile;
use leptos::prelude::*;

/// The chosen coverage level, shared through context.
#[derive(Clone, Copy)]
pub struct Coverage(pub RwSignal<Level>);

/// The chosen level's signal (a fresh default one outside the app, e.g. in tests).
pub fn coverage() -> RwSignal<Level> {
    use_context::<Coverage>().map(|c| c.0).unwrap_or_else(|| RwSignal::new(Level::DEFAULT))
}

/// The prediction set of a result, or `None` when the model has no calibration for `level`.
pub fn set_of(manifest: Option<&Manifest>, r: &CellResult, level: Level) -> Option<PredictionSet> {
    manifest?.conformal.as_ref()?.set_for_ranked(&r.ranked, level, r.source.as_ref())
}

/// The codes of the set, most probable first (possibly none); `None` when sets are unavailable.
pub use crate::session::export::set_codes;

fn source_words(source: &str) -> &str {
    match source {
        "marrow" => "bone-marrow",
        "blood" => "peripheral-blood",
        other => other,
    }
}

/// The coverage selector (80/90/95 %, default 90 %).
#[component]
pub fn CoverageSelect() -> impl IntoView {
    let level = coverage();
    view! {
        <label class="small coverage-select">"Prediction sets: right "
            <select id="coverage-level" data-testid="coverage-level" aria-label="Coverage level of the prediction sets"
                on:change=move |ev| {
                    if let Some(l) = Level::parse(&event_target_value(&ev)) {
                        level.set(l);
                    }
                }>
                {LEVELS.into_iter().map(|l| view! {
                    <option value=l.percent().to_string() selected=move || level.get() == l>{format!("{} times in 100", l.percent())}</option>
                }).collect_view()}
            </select>
        </label>
    }
}

/// The set in the result panel: its classes with probabilities, and the guarantee in words
/// (with a laboratory profile for this model, `lab`, its sets and its words; `shifted`: the
/// batch differs from the calibration images, so the guarantee is said not to hold).
pub fn set_view(manifest: Option<&Manifest>, lab: Option<&LabProfile>, r: &CellResult, level: Level, shifted: bool) -> AnyView {
    let (Some(set), Some(codes)) = (set_of(manifest, r, level), set_codes(manifest, lab, r, level)) else {
        return view! {
            <p class="muted small set-unavailable" data-testid="set-unavailable">
                "Prediction sets are unavailable: this model's manifest has no conformal calibration (it predates them). The ranking below still applies."
            </p>
        }
        .into_any();
    };
    let lab = crate::session::export::lab_for(manifest, lab);
    let members: Vec<_> = r.ranked.iter().filter(|k| codes.contains(&k.code)).cloned().collect();
    let codes = codes.join(",");
    let size = members.len();
    let single = members.len() == 1;
    let answer = if members.is_empty() {
        format!(
            "No class reaches the {} % level: the model is too unsure to name a class that would be right {} times in 100. \
             Choose a lower level, or review the image yourself; the ranking below still applies.",
            level.percent(),
            level.percent()
        )
    } else if single {
        if shifted {
            format!("One class: {} ({}), from sets not calibrated for these images", members[0].code, members[0].name)
        } else {
            format!("Confident: {} ({})", members[0].code, members[0].name)
        }
    } else {
        format!("One of {}: {}", members.len(), members.iter().map(|m| m.code.as_str()).collect::<Vec<_>>().join(" or "))
    };
    let words = match lab {
        Some(p) => format!("{} ({} % coverage; calibrated on your {} confirmed cells.)", level.words(), level.percent(), p.n),
        None => format!(
            "{} ({} % coverage; calibrated on {} {} validation images.)",
            level.words(),
            level.percent(),
            set.n,
            source_words(&set.source)
        ),
    };
    view! {
        <div class="prediction-set" class:single=single data-testid="prediction-set" data-set=codes
            data-size=size.to_string() data-level=level.key() data-calibration=if lab.is_some() { "lab" } else { "model" }
            data-uncalibrated=shifted.to_string() class:uncalibrated=shifted>
            <div class="set-answer" data-testid="set-answer"><strong>{answer}</strong></div>
            <ul class="set-members">
                {members.into_iter().map(|m| {
                    let description = taxonomy::by_code(&m.code).map(|c| c.description).unwrap_or("");
                    view! {
                        <li data-testid="set-member" data-code=m.code.clone() title=description>
                            <span class="code">{m.code.clone()}</span>" "{m.name.clone()}
                            <span class="pct">{format!(" {:.0} %", m.probability * 100.0)}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <p class="set-words small" data-testid="set-words">{words}</p>
            {shifted.then(|| view! {
                <p class="small warn" data-testid="set-uncalibrated">
                    "Not calibrated for these images: the batch differs from the images this calibration was made on, so sets like this may hold the right class less often than they say."
                </p>
            })}
        </div>
    }
    .into_any()
}

/// The out-of-distribution notice, with why; `None` unless flagged.
pub fn ood_view(manifest: Option<&Manifest>, r: &CellResult) -> Option<AnyView> {
    let o = r.ood.filter(|o| o.flagged)?;
    let level = manifest.and_then(|m| m.ood.as_ref()).map(|s| s.level).filter(|l| *l > 0.0).unwrap_or(0.98);
    Some(
        view! {
            <div class="ood-flag" role="status" data-testid="ood-flag" data-score=format!("{:.4}", o.score)
                data-threshold=format!("{:.4}", o.threshold)>
                <strong>"Outside what this model knows. "</strong>
                {o.reason(level)}
                " The classes below are only what the model would say anyway: do not rely on them."
            </div>
        }
        .into_any(),
    )
}
