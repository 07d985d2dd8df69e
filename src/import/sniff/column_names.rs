//! Turning CSV headers into column names a table can have: trimmed, never empty, unique.

use std::collections::HashSet;

/// Cleans raw header fields into unique column names.
///
/// An empty header becomes `column_N` (N is the 1-based position); control characters become
/// spaces; a name seen before (ignoring case, as DuckDB does) gets a `_2`, `_3`, ... suffix.
pub fn clean_headers(raw: &[String]) -> Vec<String> {
    let mut taken = HashSet::new();
    let mut names = Vec::with_capacity(raw.len());
    for (index, header) in raw.iter().enumerate() {
        let cleaned: String = header.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        let trimmed = cleaned.trim();
        let base = if trimmed.is_empty() {
            default_column_name(index)
        } else {
            trimmed.chars().take(255).collect()
        };
        let mut name = base.clone();
        let mut suffix = 2;
        while !taken.insert(name.to_lowercase()) {
            name = format!("{base}_{suffix}");
            suffix += 1;
        }
        names.push(name);
    }
    names
}

/// The name of a column with no header: `column_1` for the first.
pub fn default_column_name(index: usize) -> String {
    format!("column_{}", index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(raw: &[&str]) -> Vec<String> {
        clean_headers(&raw.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn empty_headers_are_named_by_position() {
        assert_eq!(clean(&["a", "", "  "]), ["a", "column_2", "column_3"]);
    }

    #[test]
    fn duplicates_get_suffixes_ignoring_case() {
        assert_eq!(clean(&["id", "ID", "id", "id_2"]), ["id", "ID_2", "id_3", "id_2_2"]);
    }

    #[test]
    fn control_characters_and_padding_are_cleaned() {
        assert_eq!(
            clean(&[" name\n", "x\"; DROP TABLE t; --"]),
            ["name", "x\"; DROP TABLE t; --"]
        );
    }
}
