//! The session: every cell of a count, as the browser stores it (IndexedDB, on this machine
//! only), so that a reload, a closed tab or a crash loses nothing the person did.
//!
//! - [`record`] — a stored cell and a stored session, and the order of the list
//! - [`resume`] — after a reload: which files must be given again, and which dropped file
//!   goes on with which waiting cell
//! - [`export`] — the export records (CSV/JSON) of a list's entries, the page's or stored ones
//!   alike, so an export is the same before and after a reload
//!
//! What a cell holds is the core's [`crate::results`] (stored as it is), never the browser glue's.

pub mod export;
pub mod record;
pub mod resume;

pub use record::{SessionMeta, StoredCell, StoredState};
