//! The session panel: which session this is and whether it is stored, a new session (after a
//! confirmation), the stored sessions to reopen or delete, the storage used, and what a restored
//! session still waits for. The storage itself is in [`super::persist`].

use super::persist;
use super::state::{AppState, CellState, StorageState};
use leptos::prelude::*;

fn megabytes(bytes: f64) -> String {
    if bytes < 1024.0 * 1024.0 {
        format!("{:.0} kB", bytes / 1024.0)
    } else {
        format!("{:.1} MB", bytes / (1024.0 * 1024.0))
    }
}

#[component]
pub fn SessionPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let confirm_new = RwSignal::new(false);
    let show_list = RwSignal::new(false);
    let confirm_delete = RwSignal::new(None::<String>);
    let message = RwSignal::new(String::new());
    let status_text = move || match state.storage.get() {
        StorageState::Starting => "opening the browser's storage…".to_string(),
        StorageState::Saved => "stored in this browser as you work".to_string(),
        StorageState::Unavailable(_) => "not stored: this page only".to_string(),
    };
    let waiting_names = Memo::new(move |_| {
        let resumable = state.resumable.get();
        state.cells.with(|cells| {
            cells.iter().filter(|c| c.state == CellState::Waiting && !resumable.contains(&c.id)).map(|c| c.name.clone()).collect::<Vec<_>>()
        })
    });
    let open = move |id: String| {
        message.set(String::new());
        leptos::task::spawn_local(async move {
            match persist::open_session(state, id).await {
                Ok(()) => show_list.set(false),
                Err(e) => message.set(e),
            }
        });
    };
    let delete = move |id: String| {
        message.set(String::new());
        confirm_delete.set(None);
        leptos::task::spawn_local(async move {
            if let Err(e) = persist::delete_session(state, id).await {
                message.set(e);
            }
        });
    };
    view! {
        <section class="session-panel" data-testid="session" data-state=move || state.storage.get().as_str()
            data-session=move || state.session.get().map(|m| m.id)
            data-saved-at=move || state.session.get().map(|m| format!("{:.0}", m.updated_ms))
            data-unsaved=move || state.unsaved.get().to_string()
            data-entries=move || state.session.get().map(|m| m.entries.to_string())
            data-classified=move || state.session.get().map(|m| m.classified.to_string())>
            <div class="session-line small">
                <span class="session-name" data-testid="session-name">{move || state.session.get().map(|m| format!("Session {}", m.name))}</span>
                " · "<span class="muted" data-testid="session-status">{status_text}</span>
            </div>
            {move || match state.storage.get() {
                StorageState::Unavailable(text) => Some(view! { <p class="storage-message small" data-testid="storage-message" role="alert">{text}</p> }),
                _ => None,
            }}
            <div class="session-actions">
                <button class="button small-button" id="new-session" on:click=move |_| confirm_new.set(true)
                    disabled=move || state.cells.with(|c| c.is_empty())>"New session"</button>
                <button class="button small-button" id="show-sessions" aria-expanded=move || show_list.get().to_string()
                    hidden=move || matches!(state.storage.get(), StorageState::Unavailable(_))
                    on:click=move |_| {
                        let shown = !show_list.get_untracked();
                        show_list.set(shown);
                        if shown {
                            leptos::task::spawn_local(persist::refresh(state));
                        }
                    }>{move || format!("Sessions ({})", state.sessions.with(|l| l.len()))}</button>
            </div>
            <Show when=move || confirm_new.get()>
                <div class="confirm small" data-testid="confirm-new-session" role="alertdialog" aria-label="Start a new session">
                    <p>{move || if matches!(state.storage.get(), StorageState::Unavailable(_)) {
                        "Start a new, empty session? The cells of this one are not stored: export them first, or they are lost.".to_string()
                    } else {
                        "Start a new, empty session? This one stays stored: open it again under Sessions.".to_string()
                    }}</p>
                    <button class="button" id="confirm-new" on:click=move |_| {
                        confirm_new.set(false);
                        leptos::task::spawn_local(persist::new_session(state));
                    }>"Start a new session"</button>
                    <button class="button" id="keep-session" on:click=move |_| confirm_new.set(false)>"Keep working here"</button>
                </div>
            </Show>
            {move || {
                let n = state.resumable.with(|r| r.len());
                (n > 0).then(|| view! {
                    <div class="resume small" data-testid="resume" role="status">
                        <span>{if n == 1 { "1 image was not classified before the page was closed; its file is stored.".to_string() }
                            else { format!("{n} images were not classified before the page was closed; their files are stored.") }}</span>
                        " "<button class="button" id="go-on" on:click=move |_| persist::go_on()>"Go on"</button>
                    </div>
                })
            }}
            {move || {
                let names = waiting_names.get();
                (!names.is_empty()).then(|| {
                    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
                    view! { <p class="waiting small" data-testid="waiting-files" data-count=names.len().to_string() role="status">{crate::session::resume::need_file_message(&refs, 5)}</p> }
                })
            }}
            <Show when=move || show_list.get()>
                <div class="session-list small">
                    <ul data-testid="session-list">
                        <For each=move || state.sessions.get() key=|m| (m.id.clone(), m.updated_ms.to_bits()) let:m>
                            {
                                let id = m.id.clone();
                                let id_open = id.clone();
                                let id_ask = id.clone();
                                let id_del = id.clone();
                                let id_cur = id.clone();
                                let id_conf = id.clone();
                                let current = move || state.session.with(|s| s.as_ref().is_some_and(|s| s.id == id_cur));
                                let current2 = current.clone();
                                view! {
                                    <li data-testid="session-item" data-id=id.clone() data-current=move || current().to_string()
                                        data-entries=m.entries.to_string() data-classified=m.classified.to_string()>
                                        <span class="summary">{m.summary()}</span>
                                        {move || if current2() {
                                            view! { <span class="muted">" (this session)"</span> }.into_any()
                                        } else if confirm_delete.get().as_deref() == Some(id_conf.as_str()) {
                                            let id_del = id_del.clone();
                                            view! {
                                                <span class="confirm-delete">" Delete it for good? "
                                                    <button class="button" data-testid="confirm-delete" on:click=move |_| delete(id_del.clone())>"Delete"</button>
                                                    <button class="button" on:click=move |_| confirm_delete.set(None)>"Keep"</button>
                                                </span>
                                            }.into_any()
                                        } else {
                                            let id_open = id_open.clone();
                                            let id_ask = id_ask.clone();
                                            view! {
                                                <span class="session-buttons">
                                                    <button class="button" data-testid="open-session" on:click=move |_| open(id_open.clone())>"Open"</button>
                                                    <button class="button" data-testid="delete-session" on:click=move |_| confirm_delete.set(Some(id_ask.clone()))>"Delete"</button>
                                                </span>
                                            }.into_any()
                                        }}
                                    </li>
                                }
                            }
                        </For>
                    </ul>
                    <p class="muted" data-testid="storage-used">{move || match state.storage_used.get() {
                        Some(b) => format!("Stored in this browser (all sessions, the model's cache included): {}. Nothing leaves this machine.", megabytes(b)),
                        None => "Storage used: unknown in this browser.".to_string(),
                    }}</p>
                </div>
            </Show>
            {move || (!message.get().is_empty()).then(|| view! { <p class="small storage-message" role="alert" data-testid="session-message">{message.get()}</p> })}
        </section>
    }
}
