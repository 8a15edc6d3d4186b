//! CSV the app writes for a person to open in a spreadsheet (the count's export, Learn's
//! answers): one writer, the `csv` crate doing the quoting, and every cell guarded against
//! formulas.
//!
//! A cell that starts with `=`, `+`, `-` or `@` is a formula to a spreadsheet (a file named
//! `=HYPERLINK(…).jpg` would run when the export is opened), so it is written with a `'` in
//! front, which spreadsheets show as text. Text a person named or typed ([`Cell::Text`]: file
//! names, classes, the model's id) is always in quotes; numbers, flags and codes the app makes
//! ([`Cell::Plain`]) only where CSV needs them.

use csv::{QuoteStyle, Terminator, WriterBuilder};
use std::borrow::Cow;

/// One cell of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    /// Text a person named or typed: always in quotes.
    Text(&'a str),
    /// A number, a flag, a code or an empty cell: in quotes only where CSV needs them.
    Plain(Cow<'a, str>),
}

impl<'a> Cell<'a> {
    /// A plain cell of a value's text (`0.1235`, `true`, `LYT`).
    pub fn plain(value: impl Into<Cow<'a, str>>) -> Self {
        Cell::Plain(value.into())
    }

    /// An empty plain cell (no value).
    pub fn empty() -> Self {
        Cell::Plain(Cow::Borrowed(""))
    }
}

/// `text` with a `'` in front when a spreadsheet would read it as a formula.
pub fn formula_guarded(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// A CSV table being written: a header row, then rows of cells; lines end with `\n`.
#[derive(Debug, Default)]
pub struct Table {
    out: Vec<u8>,
}

impl Table {
    /// A table whose first row holds the column names.
    pub fn new(header: &[&str]) -> Self {
        let mut table = Table::default();
        table.row(header.iter().map(|name| Cell::plain(*name)));
        table
    }

    /// Appends one row.
    pub fn row<'a>(&mut self, cells: impl IntoIterator<Item = Cell<'a>>) {
        for (i, cell) in cells.into_iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            let (text, style) = match &cell {
                Cell::Text(t) => (formula_guarded(t), QuoteStyle::Always),
                // An empty plain cell is nothing between its commas (the csv crate would write a
                // record of one empty field as `""`).
                Cell::Plain(v) if v.is_empty() => continue,
                Cell::Plain(v) => (formula_guarded(v), QuoteStyle::Necessary),
            };
            self.write_cell(&text, style);
        }
        self.out.push(b'\n');
    }

    /// One cell, quoted in `style` by the csv crate: written as a record of its own, whose line end
    /// is then taken off again (the crate closes a field's quotes only when its record ends).
    fn write_cell(&mut self, text: &str, style: QuoteStyle) {
        let mut writer = WriterBuilder::new()
            .quote_style(style)
            .terminator(Terminator::Any(b'\n'))
            .buffer_capacity(2 * text.len() + 8)
            .from_writer(&mut self.out);
        // Writing into memory cannot fail: a Vec's io::Write never errors, and every record has one field.
        let written = writer.write_record([text]).and_then(|()| writer.flush().map_err(csv::Error::from));
        debug_assert!(written.is_ok(), "CSV cell not written: {written:?}");
        drop(writer);
        if self.out.last() == Some(&b'\n') {
            self.out.pop();
        }
    }

    /// The table as text.
    pub fn finish(self) -> String {
        // Only `&str` cells and ASCII separators went in, so the bytes are UTF-8.
        String::from_utf8_lossy(&self.out).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_always_quoted_and_plain_only_where_needed() {
        let mut t = Table::new(&["a", "b", "c", "d"]);
        t.row([Cell::Text("we\"ird, name.jpg"), Cell::plain("0.1235"), Cell::empty(), Cell::Text("")]);
        t.row([Cell::plain("LYT,BLA"), Cell::plain("x\"y"), Cell::Text("LYT"), Cell::plain(true.to_string())]);
        assert_eq!(t.finish(), "a,b,c,d\n\"we\"\"ird, name.jpg\",0.1235,,\"\"\n\"LYT,BLA\",\"x\"\"y\",\"LYT\",true\n");
    }

    #[test]
    fn formulas_are_neutralised_in_every_cell() {
        let mut t = Table::new(&["file", "code"]);
        t.row([Cell::Text("=cmd|' /C calc'!A0"), Cell::plain("@SUM(A1)")]);
        t.row([Cell::Text("+1.jpg"), Cell::plain("-2")]);
        assert_eq!(t.finish(), "file,code\n\"'=cmd|' /C calc'!A0\",'@SUM(A1)\n\"'+1.jpg\",'-2\n");
        assert_eq!(formula_guarded("cell.jpg"), "cell.jpg");
    }
}
