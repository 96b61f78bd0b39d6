//! Reading the Settings forms' text fields: one place for how blanks, lists and lines are read.

/// A trimmed value; `None` when blank.
pub fn opt(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// Comma- or newline-separated entries, trimmed, blanks dropped.
pub fn split_list(s: &str) -> Vec<String> {
    s.split([',', '\n'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

/// One entry per line, trimmed, blank lines dropped (for entries that may contain commas).
pub fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}
