//! After a reload or a crash: the cells that were still waiting for the classifier. Their files
//! are stored as they arrive, so a batch can go on; a file that could not be stored (too large,
//! storage full) must be given again, because the browser gives a page a file only when the
//! person hands it over. A file given again goes on with the waiting cell of the same name, in
//! its place in the list.

/// For each newly given file name, the waiting cell it goes on with (`None`: a new entry).
/// `waiting` is `(id, name)` in list order; each waiting cell takes one file, the first of its
/// name.
pub fn match_files(waiting: &[(u32, String)], names: &[String]) -> Vec<Option<u32>> {
    let mut taken = vec![false; waiting.len()];
    names
        .iter()
        .map(|name| {
            let k = waiting.iter().enumerate().position(|(k, (_, n))| !taken[k] && n == name)?;
            taken[k] = true;
            Some(waiting[k].0)
        })
        .collect()
}

/// The message about files to give again, with at most `shown` names.
pub fn need_file_message(names: &[&str], shown: usize) -> String {
    let n = names.len();
    let listed: Vec<&str> = names.iter().take(shown).copied().collect();
    let list = if n > shown { format!("{} and {} more", listed.join(", "), n - shown) } else { listed.join(", ") };
    let files = if n == 1 { "1 file was" } else { "files were" };
    let count = if n == 1 { String::new() } else { format!("{n} ") };
    format!(
        "{count}{files} not classified before the page was closed or reloaded: {list}. The browser does not let a page read a file again by itself: drop or choose {} again and {} go on in {} place in the list.",
        if n == 1 { "it" } else { "them" },
        if n == 1 { "it will" } else { "they will" },
        if n == 1 { "its" } else { "their" },
    )
}
