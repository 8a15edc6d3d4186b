//! Learn: a morphology trainer. A student names expert-labelled cells one at a time and sees the
//! model's opinion beside the expert's label.
//!
//! - [`teaching`] — the teaching set (`teaching/index.json` of a build) and which cells a
//!   practice session draws from (classes, specimen)
//! - [`progress`] — the student's answers: score, streak, accuracy per class, their own
//!   confusion matrix, export; stored in the browser
//! - [`schedule`] — which cell comes next: every class in turn, cells answered wrongly sooner
//!   (Leitner boxes), weak classes more often on request
//! - [`pairs`] — the pairs of classes to compare side by side, most confused first

pub mod pairs;
pub mod progress;
pub mod schedule;
pub mod teaching;
