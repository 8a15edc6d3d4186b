//! Tabs: a tab owns its session. It answers "who has session X?" on a `BroadcastChannel`, and a
//! tab that opens, switches or deletes never takes a session another tab answers for.

use super::with;
use crate::ui::state::AppState;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::HashSet;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::BroadcastChannel;

const CHANNEL: &str = "marrowscope-sessions";
/// How long to wait for other tabs to say which sessions they hold.
const WHO_WAIT_MS: i32 = 150;

/// A message between tabs: "who has which session?", and a tab's answer.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum TabMessage {
    Who,
    Mine { id: String },
}

fn read(data: JsValue) -> Option<TabMessage> {
    serde_wasm_bindgen::from_value(data).ok()
}

fn send(ch: &BroadcastChannel, msg: &TabMessage) {
    if let Ok(v) = serde_wasm_bindgen::to_value(msg) {
        let _ = ch.post_message(&v);
    }
}

/// Ids of the sessions other tabs of this site hold now.
pub(super) async fn sessions_held_elsewhere() -> HashSet<String> {
    let held: std::rc::Rc<RefCell<HashSet<String>>> = Default::default();
    let Ok(ch) = BroadcastChannel::new(CHANNEL) else { return HashSet::new() };
    let h = held.clone();
    let on_reply = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
        if let Some(TabMessage::Mine { id }) = read(ev.data()) {
            h.borrow_mut().insert(id);
        }
    });
    ch.set_onmessage(Some(on_reply.as_ref().unchecked_ref()));
    send(&ch, &TabMessage::Who);
    let wait = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, WHO_WAIT_MS);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(wait).await;
    ch.set_onmessage(None);
    ch.close();
    drop(on_reply);
    let out = held.borrow().clone();
    out
}

/// Answers other tabs' "who has which session" with this tab's session.
pub(super) fn answer_other_tabs(state: AppState) {
    let Ok(ch) = BroadcastChannel::new(CHANNEL) else { return };
    let ch2 = ch.clone();
    let on_ask = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
        if let (Some(TabMessage::Who), Some(meta)) = (read(ev.data()), state.session.get_untracked()) {
            send(&ch2, &TabMessage::Mine { id: meta.id });
        }
    });
    ch.set_onmessage(Some(on_ask.as_ref().unchecked_ref()));
    on_ask.forget();
    with(|s| s.channel = Some(ch));
}

/// Whether another tab holds this session now.
pub(super) async fn held_elsewhere(id: &str) -> bool {
    sessions_held_elsewhere().await.contains(id)
}
