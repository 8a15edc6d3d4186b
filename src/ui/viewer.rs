//! The selected cell at full resolution: zoom and pan (mouse, wheel, touch,
//! keyboard) and the class activation map overlay.

use super::engine;
use super::state::{AppState, Cell, CellState, CropView};
use crate::model::cam::Heatmap;
use leptos::prelude::*;
use wasm_bindgen::Clamped;
use wasm_bindgen::JsCast;

/// Side of the canvas a class activation map is drawn on (also the Learn tab's).
pub(super) const CAM_SIZE: u32 = 256;

/// Draws a class activation map (or clears the canvas).
pub(super) fn draw_cam(canvas: &web_sys::HtmlCanvasElement, heat: Option<Heatmap>) {
    let Ok(Some(ctx)) = canvas.get_context("2d") else { return };
    let Ok(ctx) = ctx.dyn_into::<web_sys::CanvasRenderingContext2d>() else { return };
    ctx.clear_rect(0.0, 0.0, CAM_SIZE as f64, CAM_SIZE as f64);
    if let Some(h) = heat {
        let rgba = h.to_rgba(CAM_SIZE, CAM_SIZE);
        if let Ok(img) = web_sys::ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), CAM_SIZE, CAM_SIZE) {
            let _ = ctx.put_image_data(&img, 0.0, 0.0);
        }
    }
}

#[component]
pub fn Viewer() -> impl IntoView {
    let state = expect_context::<AppState>();
    let scale = RwSignal::new(1.0f64);
    let offset = RwSignal::new((0.0f64, 0.0f64));
    let show_cam = RwSignal::new(false);
    let cam_class = RwSignal::new(None::<usize>);
    let drag = StoredValue::new(None::<(f64, f64, f64, f64)>);
    let canvas_ref = NodeRef::<leptos::html::Canvas>::new();

    let cell = Memo::new(move |_| state.selected.get().and_then(|id| state.cell(id)));
    // The image on the stage: the cell's own, or its field's (cells of one field share it).
    let shown_image = Memo::new(move |_| cell.with(|c| c.as_ref().map(|c| c.field.as_ref().map(|f| f.field_id).unwrap_or(c.id))));
    // Where the last press began (a click on a field adds a cell only when it did not pan).
    let down_at = StoredValue::new((0.0f64, 0.0f64));
    // Reset the view when another image is shown.
    Effect::new(move |_| {
        let _ = shown_image.get();
        scale.set(1.0);
        offset.set((0.0, 0.0));
        cam_class.set(None);
    });
    // The class whose map is shown: the person's choice, else the top class.
    let cam_index = Memo::new(move |_| {
        let c = cell.get()?;
        let top = &c.result.as_ref()?.ranked[0].code;
        Some(cam_class.get().unwrap_or_else(|| state.manifest().and_then(|m| m.classes.iter().position(|x| x == top)).unwrap_or(0)))
    });
    let heat = Memo::new(move |_| {
        let c = cell.get()?;
        let r = c.result.as_ref()?;
        let values = r.heatmaps.get(cam_index.get()?)?.clone();
        Some(Heatmap { width: r.heat_w, height: r.heat_h, values })
    });
    Effect::new(move |_| {
        let h = if show_cam.get() { heat.get() } else { None };
        if let Some(canvas) = canvas_ref.get() {
            draw_cam(&canvas, h);
        }
    });
    let zoom_by = move |f: f64| scale.update(|s| *s = (*s * f).clamp(1.0, 12.0));
    let pan_by = move |dx: f64, dy: f64| {
        offset.update(|(x, y)| {
            *x += dx;
            *y += dy;
        })
    };
    let reset = move || {
        scale.set(1.0);
        offset.set((0.0, 0.0));
    };
    let transform = move || {
        let (x, y) = offset.get();
        format!("translate({x}px, {y}px) scale({})", scale.get())
    };

    view! {
        <section class="viewer" aria-label="Cell viewer">
            {move || match cell.get() {
                None => view! { <div class="viewer-empty muted">"Choose, drop or paste an image, or pick a sample, to see it here."</div> }.into_any(),
                Some(c) => view! {
                    <div class="stage" tabindex="0" role="img" aria-label=format!("{} — use + and − to zoom, arrow keys to pan, 0 to reset", c.name)
                        on:wheel=move |ev: leptos::ev::WheelEvent| { ev.prevent_default(); zoom_by(if ev.delta_y() < 0.0 { 1.15 } else { 1.0 / 1.15 }); }
                        on:pointerdown=move |ev: leptos::ev::PointerEvent| {
                            down_at.set_value((ev.client_x() as f64, ev.client_y() as f64));
                            let (x, y) = offset.get_untracked();
                            drag.set_value(Some((ev.client_x() as f64, ev.client_y() as f64, x, y)));
                            if let Some(t) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) { let _ = t.set_pointer_capture(ev.pointer_id()); }
                        }
                        on:pointermove=move |ev: leptos::ev::PointerEvent| {
                            if let Some((sx, sy, ox, oy)) = drag.get_value() {
                                offset.set((ox + ev.client_x() as f64 - sx, oy + ev.client_y() as f64 - sy));
                            }
                        }
                        on:pointerup=move |_| drag.set_value(None)
                        on:pointercancel=move |_| drag.set_value(None)
                        on:dblclick=move |_| reset()
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                            let handled = match ev.key().as_str() {
                                "+" | "=" => { zoom_by(1.25); true }
                                "-" | "_" => { zoom_by(0.8); true }
                                "0" => { reset(); true }
                                "ArrowLeft" => { pan_by(20.0, 0.0); true }
                                "ArrowRight" => { pan_by(-20.0, 0.0); true }
                                "ArrowUp" => { pan_by(0.0, 20.0); true }
                                "ArrowDown" => { pan_by(0.0, -20.0); true }
                                _ => false,
                            };
                            if handled { ev.prevent_default(); ev.stop_propagation(); }
                        }
                    >
                        <div class="layers" style:transform=transform>
                            {match field_of(state, &c) {
                                Some(field) => field_layer(state, field, down_at).into_any(),
                                // With a model crop, the stage shows what the model saw (the map
                                // lies on it); the original is shown beside it, below.
                                None => view! {
                                    <img id="viewer-image" src=c.crop.as_ref().map(|k| k.url.clone()).unwrap_or_else(|| c.url.clone())
                                        alt=if c.crop.is_some() { format!("The crop the model saw: {}", c.name) } else { format!("Cell image {}", c.name) }
                                        data-model-crop=c.crop.is_some().to_string() draggable="false" />
                                    <canvas id="cam-canvas" node_ref=canvas_ref width=CAM_SIZE height=CAM_SIZE class:hidden=move || !show_cam.get() aria-hidden="true"></canvas>
                                }.into_any(),
                            }}
                        </div>
                    </div>
                    {c.crop.clone().map(|k| original_beside(&c, &k))}
                    {field_of(state, &c).map(|field| view! {
                        <div class="field-summary small" data-testid="field-summary" data-field=field.name.clone()>
                            <span data-testid="layout">{field.field_info.as_ref().map(|i| i.layout.clone()).unwrap_or_default()}</span>
                            {field.field_info.as_ref().map(|i| format!(" · {}×{} px · found in {:.0} ms", i.width, i.height, i.detect_ms))}
                            <br />
                            <span class="muted">"Click a missed white cell on the field to add it; select a box and press Delete (or Remove) to remove a false one."</span>
                        </div>
                    })}
                    {c.field.clone().map(|f| {
                        let id = c.id;
                        let busy = matches!(c.state, CellState::Queued | CellState::Running);
                        view! {
                            <div class="field-crop" data-testid="field-crop">
                                <div class="crop-stage">
                                    {(!c.url.is_empty()).then(|| view! {
                                        <img id="viewer-image" src=c.url.clone() alt=format!("The crop the model saw: {}", c.name) draggable="false" />
                                    })}
                                    <canvas id="cam-canvas" node_ref=canvas_ref width=CAM_SIZE height=CAM_SIZE class:hidden=move || !show_cam.get() aria-hidden="true"></canvas>
                                </div>
                                <div class="small">
                                    <p>{format!("The crop the model saw, at the training scale. Box {} in {}{}.", f.box_text(), f.field_name, if f.added { ", added by you" } else { "" })}</p>
                                    <button class="button" id="remove-cell" disabled=busy on:click=move |_| engine::remove_cell(id)>"Remove this cell (not a white cell)"</button>
                                </div>
                            </div>
                        }
                    })}
                }.into_any(),
            }}
            <div class="viewer-tools" role="toolbar" aria-label="Viewer controls">
                <button class="button" on:click=move |_| zoom_by(1.25) aria-label="Zoom in">"+"</button>
                <button class="button" on:click=move |_| zoom_by(0.8) aria-label="Zoom out">"−"</button>
                <button class="button" on:click=move |_| reset() aria-label="1:1 (reset zoom)">"1:1"</button>
                <span class="zoom-level" aria-live="polite">{move || format!("{:.0} %", scale.get() * 100.0)}</span>
                <label class="toggle">
                    <input type="checkbox" id="cam-toggle" prop:checked=move || show_cam.get()
                        on:change=move |ev| show_cam.set(event_target_checked(&ev)) />
                    " Show what the model looked at"
                </label>
                {move || {
                    let manifest = state.manifest()?;
                    manifest.cam.as_ref()?;
                    let current = cam_index.get()?;
                    Some(view! {
                        <label class="small">"for class "
                            <select id="cam-class" aria-label="Class for the activation map" on:change=move |ev| {
                                cam_class.set(event_target_value(&ev).parse().ok());
                            }>
                                {manifest.classes.iter().enumerate().map(|(i, code)| view! {
                                    <option value=i.to_string() selected=i == current>{format!("{code} — {}", crate::taxonomy::name_of(code))}</option>
                                }).collect_view()}
                            </select>
                        </label>
                    })
                }}
            </div>
        </section>
    }
}

/// The field entry a cell belongs to (or the cell itself when it is a field's entry).
fn field_of(state: AppState, c: &Cell) -> Option<Cell> {
    if c.field_info.is_some() {
        return Some(c.clone());
    }
    state.cell_untracked(c.field.as_ref()?.field_id)
}

/// The original of a single-cell image, small, with the box of the cell that was measured and
/// cut out for the model, and how.
fn original_beside(c: &Cell, k: &CropView) -> impl IntoView {
    let (w, h) = c.result.as_ref().map(|r| (r.width.max(1), r.height.max(1))).unwrap_or((1, 1));
    let rect = k.bbox.map(|[x, y, bw, bh]| {
        view! {
            <rect x=x.to_string() y=y.to_string() width=bw.to_string() height=bh.to_string() class="crop-box" />
        }
    });
    view! {
        <div class="model-crop small" data-testid="model-crop" data-scale=format!("{:.2}", k.scale)
            data-nucleus=k.nucleus_px.map(|n| format!("{n:.1}")).unwrap_or_default()
            data-box=k.bbox.map(|[x, y, bw, bh]| format!("{x},{y},{bw},{bh}")).unwrap_or_default()>
            <figure class="original">
                <svg viewBox=format!("0 0 {w} {h}") role="img" aria-label=format!("The original image, {w}×{h} pixels, with the cell that was measured")>
                    <image href=c.url.clone() width=w.to_string() height=h.to_string() />
                    {rect}
                </svg>
                <figcaption class="muted">{format!("Original, {w}×{h} px")}</figcaption>
            </figure>
            <p>{k.explain()}</p>
        </div>
    }
}

/// A colour per class (stable: from the class's place in the MLL list), for the boxes.
pub fn class_colour(code: Option<&str>) -> String {
    match code.and_then(|c| crate::taxonomy::all().position(|k| k.code == c)) {
        Some(i) => format!("hsl({}, 80%, 42%)", (i * 67 + 200) % 360),
        None => "hsl(0, 0%, 55%)".to_string(),
    }
}

/// Up to this many white cells too small to classify carry a "white cell" label on the field.
const MAX_LABELLED_TOO_SMALL: usize = 12;

/// The field image with a box and class label per cell, and a dashed grey box labelled "white
/// cell" (unlabelled beyond [`MAX_LABELLED_TOO_SMALL`]) per white cell too small to classify (`[data-testid=field-box-too-small]`, `data-box`);
/// click a box to select its cell, click elsewhere on the field to add a missed cell there.
fn field_layer(state: AppState, field: Cell, down_at: StoredValue<(f64, f64)>) -> impl IntoView {
    let fid = field.id;
    let (w, h) = field.field_info.as_ref().map(|i| (i.width, i.height)).unwrap_or((1, 1));
    let stroke = (w.max(h) as f64 / 250.0).max(1.5);
    let font = (w.max(h) as f64 / 45.0).max(10.0);
    let boxes = Memo::new(move |_| {
        state.cells.with(|cs| {
            cs.iter()
                .filter_map(|x| {
                    let f = x.field.as_ref().filter(|f| f.field_id == fid)?;
                    Some((x.id, x.rev, f.bbox, x.final_code().map(str::to_string), x.state))
                })
                .collect::<Vec<_>>()
        })
    });
    let too_small = field.field_info.as_ref().map(|i| i.too_small.clone()).unwrap_or_default();
    // A wide field at a low magnification (an eyepiece photo) has dozens of them: the dashed boxes
    // say it, and labels on each would cover the field.
    let label_too_small = too_small.len() <= MAX_LABELLED_TOO_SMALL;
    let svg_ref = NodeRef::<leptos::svg::Svg>::new();
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let (sx, sy) = down_at.get_value();
        if (ev.client_x() as f64 - sx).hypot(ev.client_y() as f64 - sy) > 5.0 {
            return; // a pan, not a click
        }
        let Some(svg) = svg_ref.get_untracked() else { return };
        let el: &web_sys::Element = svg.unchecked_ref();
        let r = el.get_bounding_client_rect();
        let s = (r.width() / w as f64).min(r.height() / h as f64);
        if s <= 0.0 {
            return;
        }
        let x = (ev.client_x() as f64 - r.left() - (r.width() - w as f64 * s) / 2.0) / s;
        let y = (ev.client_y() as f64 - r.top() - (r.height() - h as f64 * s) / 2.0) / s;
        if x >= 0.0 && y >= 0.0 && x < w as f64 && y < h as f64 {
            engine::add_cell_at(fid, x as f32, y as f32);
        }
    };
    view! {
        <svg class="field-svg" node_ref=svg_ref data-testid="field-view" data-field=field.name.clone() data-width=w.to_string() data-height=h.to_string()
            viewBox=format!("0 0 {w} {h}") preserveAspectRatio="xMidYMid meet" role="img"
            aria-label=format!("Field {} with a box per white cell", field.name) on:click=on_click>
            <image id="field-image" href=field.url.clone() x="0" y="0" width=w.to_string() height=h.to_string()></image>
            {too_small.into_iter().map(|[x, y, bw, bh]| view! {
                // Not a cell of the list: a click on it neither selects nor adds one.
                <g class="field-box too-small" data-testid="field-box-too-small" data-box=format!("{x},{y},{bw},{bh}")
                    on:click=move |ev: leptos::ev::MouseEvent| ev.stop_propagation()>
                    <title>"White cell — too small to classify"</title>
                    <rect x=x.to_string() y=y.to_string() width=bw.to_string() height=bh.to_string() fill="transparent"
                        stroke="hsl(0, 0%, 45%)" stroke-width=stroke.to_string() stroke-dasharray=format!("{:.1} {:.1}", 3.0 * stroke, 2.0 * stroke)></rect>
                    {label_too_small.then(|| view! {
                        <text x=x.to_string() y=(y as f64 - stroke * 1.5).max(font * 0.8).to_string() fill="hsl(0, 0%, 30%)" font-size=(font * 0.8).to_string()>"white cell"</text>
                    })}
                </g>
            }).collect_view()}
            <For each=move || boxes.get() key=|b| (b.0, b.1) let:b>
                {
                    let (id, _, [x, y, bw, bh], code, cell_state) = b;
                    let colour = class_colour(code.as_deref());
                    let pending = matches!(cell_state, CellState::Queued | CellState::Running);
                    let label = code.clone().unwrap_or_else(|| if pending { "…".into() } else { "?".into() });
                    view! {
                        <g class="field-box" class:selected=move || state.selected.get() == Some(id) class:pending=pending
                            data-testid="field-box" data-cell=id.to_string() data-box=format!("{x},{y},{bw},{bh}") data-code=code.clone()
                            on:click=move |ev: leptos::ev::MouseEvent| { ev.stop_propagation(); state.selected.set(Some(id)); }>
                            <rect x=x.to_string() y=y.to_string() width=bw.to_string() height=bh.to_string() fill="transparent"
                                stroke=colour.clone() stroke-width=move || (if state.selected.get() == Some(id) { 2.5 * stroke } else { stroke }).to_string()></rect>
                            <text x=x.to_string() y=(y as f64 - stroke * 1.5).max(font).to_string() fill=colour font-size=font.to_string() font-weight="700">{label}</text>
                        </g>
                    }
                }
            </For>
        </svg>
    }
}
