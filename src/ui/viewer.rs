//! The selected cell at full resolution: zoom and pan (mouse, wheel, touch,
//! keyboard) and the class activation map overlay.

use super::state::AppState;
use crate::cam::Heatmap;
use leptos::prelude::*;
use wasm_bindgen::Clamped;
use wasm_bindgen::JsCast;

const CAM_SIZE: u32 = 256;

fn draw_cam(canvas: &web_sys::HtmlCanvasElement, heat: Option<Heatmap>) {
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
    // Reset the view when another cell is selected.
    Effect::new(move |_| {
        let _ = state.selected.get();
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
                            <img id="viewer-image" src=c.url.clone() alt=format!("Cell image {}", c.name) draggable="false" />
                            <canvas id="cam-canvas" node_ref=canvas_ref width=CAM_SIZE height=CAM_SIZE class:hidden=move || !show_cam.get() aria-hidden="true"></canvas>
                        </div>
                    </div>
                }.into_any(),
            }}
            <div class="viewer-tools" role="toolbar" aria-label="Viewer controls">
                <button class="button" on:click=move |_| zoom_by(1.25) aria-label="Zoom in">"+"</button>
                <button class="button" on:click=move |_| zoom_by(0.8) aria-label="Zoom out">"−"</button>
                <button class="button" on:click=move |_| reset() aria-label="Reset zoom">"1:1"</button>
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
