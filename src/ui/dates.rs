//! Dates as people write them, for names the person reads (sessions, laboratory profiles).

/// A day as people write it: "5 Dec 2026" (session names, laboratory profiles).
pub fn day_words(d: &js_sys::Date) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!("{} {} {}", d.get_date(), MONTHS[(d.get_month() as usize).min(11)], d.get_full_year())
}
