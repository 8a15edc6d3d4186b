//! Which rows of the batch list are on screen (or near it). A batch may hold 5,000 cells: every
//! row keeps its element, its `data-*` attributes and its result, but only rows within
//! [`MARGIN`] of the list's visible part carry their preview image and their reassign menu
//! (the selected row always does). One `IntersectionObserver`, rooted at the list's scroller.

use leptos::prelude::*;
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, IntersectionObserver, IntersectionObserverEntry, IntersectionObserverInit};

/// How far beyond the list's visible part a row counts as near (about 20 rows each way).
const MARGIN: &str = "1200px 0px";
/// The property on a row's element that names its cell.
const ID_PROP: &str = "__marrowscopeCell";

#[derive(Default)]
struct Rows {
    observer: Option<IntersectionObserver>,
    /// The observer's root (the list's scroller); a new root means a new observer.
    root: Option<Element>,
    near: HashMap<u32, RwSignal<bool>>,
}

thread_local! {
    static ROWS: RefCell<Rows> = RefCell::new(Rows::default());
}

fn observer_for(root: &Element) -> Option<IntersectionObserver> {
    ROWS.with_borrow_mut(|r| {
        if r.root.as_ref() == Some(root) {
            return r.observer.clone();
        }
        if let Some(old) = r.observer.take() {
            old.disconnect();
        }
        let callback = Closure::<dyn Fn(js_sys::Array)>::new(|entries: js_sys::Array| {
            for entry in entries.iter() {
                let entry: IntersectionObserverEntry = entry.unchecked_into();
                let id = js_sys::Reflect::get(&entry.target(), &JsValue::from_str(ID_PROP)).ok().and_then(|v| v.as_f64());
                let Some(id) = id else { continue };
                let near = ROWS.with_borrow(|r| r.near.get(&(id as u32)).copied());
                if let Some(near) = near {
                    // The row may be gone since (a re-rendered row has a new signal).
                    let now = entry.is_intersecting();
                    if near.try_get_untracked().is_some_and(|was| was != now) {
                        near.try_set(now);
                    }
                }
            }
        });
        let init = IntersectionObserverInit::new();
        init.set_root(Some(root));
        init.set_root_margin(MARGIN);
        let observer = IntersectionObserver::new_with_options(callback.as_ref().unchecked_ref(), &init).ok()?;
        callback.forget();
        r.root = Some(root.clone());
        r.observer = Some(observer.clone());
        Some(observer)
    })
}

/// Whether row `id` is near the visible part of its list: false until the row is mounted and
/// the observer has seen it. `row`: the row's element, once mounted; `root`: the selector of the
/// scroller it lies in.
pub fn track(id: u32, row: NodeRef<leptos::html::Li>, root: &'static str) -> RwSignal<bool> {
    let near = RwSignal::new(false);
    Effect::new(move |_| {
        let Some(el) = row.get() else { return };
        let el: Element = el.unchecked_into();
        let Some(scroller) = el.closest(root).ok().flatten() else {
            near.set(true);
            return;
        };
        let _ = js_sys::Reflect::set(&el, &JsValue::from_str(ID_PROP), &JsValue::from(id));
        ROWS.with_borrow_mut(|r| r.near.insert(id, near));
        if let Some(observer) = observer_for(&scroller) {
            observer.observe(&el);
            on_cleanup(move || {
                observer.unobserve(&el);
                ROWS.with_borrow_mut(|r| {
                    if r.near.get(&id) == Some(&near) {
                        r.near.remove(&id);
                    }
                });
            });
        } else {
            near.set(true);
        }
    });
    near
}
