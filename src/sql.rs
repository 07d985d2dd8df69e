//! Quoting for SQL text that Sluice has to build itself.
//!
//! Values always travel as bound parameters. Identifiers (table and column names) cannot be bound,
//! so they are quoted here and nowhere else; every name that came from a user or a file goes
//! through [`quote_ident`].

/// Quotes an identifier for DuckDB: wrapped in double quotes, inner double quotes doubled.
///
/// Any string becomes a single, literal identifier this way, including `x"; DROP TABLE t; --`.
pub fn quote_ident(name: &str) -> String {
    let mut quoted = String::with_capacity(name.len() + 2);
    quoted.push('"');
    for ch in name.chars() {
        if ch == '"' {
            quoted.push('"');
        }
        quoted.push(ch);
    }
    quoted.push('"');
    quoted
}

/// Quotes a string literal for the few places DuckDB takes no parameter (such as `COPY ... TO`
/// paths): wrapped in single quotes, inner single quotes doubled.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Why a table name is refused before it reaches the database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableNameError {
    /// The name is empty or only spaces.
    #[error("the table name is empty")]
    Empty,
    /// The name is longer than allowed; it holds the name's length in characters.
    #[error("the table name is {0} characters long; at most 255 are allowed")]
    TooLong(usize),
    /// The name holds a control character.
    #[error("the table name contains a control character (such as a newline or NUL)")]
    ControlCharacter,
}

/// Checks a user-supplied table name. Any other text is a valid name once quoted, so odd names
/// such as `x"; DROP TABLE t; --` are accepted as plain names.
pub fn validate_table_name(name: &str) -> Result<(), TableNameError> {
    if name.trim().is_empty() {
        return Err(TableNameError::Empty);
    }
    let length = name.chars().count();
    if length > 255 {
        return Err(TableNameError::TooLong(length));
    }
    if name.chars().any(char::is_control) {
        return Err(TableNameError::ControlCharacter);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_identifiers_with_embedded_quotes() {
        assert_eq!(quote_ident("plain"), "\"plain\"");
        assert_eq!(quote_ident("x\"; DROP TABLE t; --"), "\"x\"\"; DROP TABLE t; --\"");
    }

    #[test]
    fn quotes_literals_with_embedded_quotes() {
        assert_eq!(quote_literal("it's"), "'it''s'");
    }

    #[test]
    fn refuses_empty_long_and_control_names() {
        assert_eq!(validate_table_name("  "), Err(TableNameError::Empty));
        assert_eq!(validate_table_name(&"a".repeat(256)), Err(TableNameError::TooLong(256)));
        assert_eq!(validate_table_name("a\nb"), Err(TableNameError::ControlCharacter));
        assert_eq!(validate_table_name("x\"; DROP TABLE t; --"), Ok(()));
    }
}
