//! The session: every cell of a count, as the browser stores it (IndexedDB, on this machine
//! only), so that a reload, a closed tab or a crash loses nothing the person did.
//!
//! - [`record`] — a stored cell and a stored session, and the order of the list
//! - [`resume`] — after a reload: which files must be given again, and which dropped file
//!   goes on with which waiting cell
//! - [`export`] — a cell's export record (CSV/JSON), the same before and after a reload

pub mod export;
pub mod record;
pub mod resume;

pub use record::{SessionMeta, StoredCell, StoredState};
