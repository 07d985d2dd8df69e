//! Writing rows as CSV text: quoting as DuckDB's `COPY ... TO` does by default (a field is
//! quoted when it holds the delimiter, a quote or a line break, and an empty string is written
//! `""` so it stays apart from NULL, as is a text that reads as a missing value, `"NA"`), or every
//! field, or every field but numbers; NULL as an empty field or a marker such as `\N`; LF or
//! CRLF; plus the optional guard against formula injection.
//!
//! Hand-written because the `csv` crate writes an empty string and a NULL the same way.

use super::shape::{LineEnding, QuoteStyle};
use crate::csv_field::QuoteRule;
use crate::import::{NULL_MARKERS, reads_as_missing};

/// How to write fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvStyle {
    /// The byte between fields.
    pub delimiter: u8,
    /// The byte a quoted field is enclosed in; one inside the field is doubled.
    pub quote: u8,
    /// Prefix text cells that a spreadsheet would run as a formula with `'`.
    pub formula_guard: bool,
    /// Which fields go in quotes: only where needed, every one, or all but numbers.
    pub quoting: QuoteStyle,
    /// What ends each record.
    pub line_ending: LineEnding,
    /// What NULL is written as, never quoted; a value equal to it is quoted.
    pub null_string: String,
}

impl Default for CsvStyle {
    fn default() -> Self {
        Self {
            delimiter: b',',
            quote: b'"',
            formula_guard: false,
            quoting: QuoteStyle::Needed,
            line_ending: LineEnding::Lf,
            null_string: String::new(),
        }
    }
}

/// What the encoder needs to know of a column to write its fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FieldKind {
    /// Text a spreadsheet could run as a formula: the only kind the formula guard touches.
    pub free_text: bool,
    /// A number: left unquoted by [`QuoteStyle::NonNumeric`].
    pub numeric: bool,
}

impl FieldKind {
    /// A text column: the kind the formula guard touches.
    pub const TEXT: FieldKind = FieldKind {
        free_text: true,
        numeric: false,
    };
    /// A number column: left unquoted by [`QuoteStyle::NonNumeric`], never guarded.
    pub const NUMBER: FieldKind = FieldKind {
        free_text: false,
        numeric: true,
    };
}

/// Characters that make a spreadsheet treat a cell as a formula (OWASP's CSV injection list).
const FORMULA_STARTS: [u8; 6] = [b'=', b'+', b'-', b'@', b'\t', b'\r'];

/// Which bytes force a field into quotes (the delimiter, the quote and line breaks): DuckDB's rule.
pub type SpecialBytes = QuoteRule;

impl CsvStyle {
    /// The bytes that force a field of this style into quotes.
    pub fn special_bytes(&self) -> SpecialBytes {
        QuoteRule::new(self.delimiter, self.quote)
    }

    /// Appends one non-NULL field.
    pub fn push_field(&self, out: &mut Vec<u8>, value: &str, kind: FieldKind) {
        self.push_field_with(&self.special_bytes(), out, value.as_bytes(), kind);
    }

    /// Appends one non-NULL field, given the style's [`CsvStyle::special_bytes`].
    pub fn push_field_with(&self, special: &SpecialBytes, out: &mut Vec<u8>, bytes: &[u8], kind: FieldKind) {
        let guarded = self.formula_guard && kind.free_text && bytes.first().is_some_and(|b| FORMULA_STARTS.contains(b));
        let needs_quotes = match self.quoting {
            QuoteStyle::All => true,
            QuoteStyle::NonNumeric if !kind.numeric => true,
            _ => {
                special.must_quote(bytes)
                    || (!self.null_string.is_empty() && bytes == self.null_string.as_bytes())
                    // `NA` or `NULL` as text, unquoted, reads back as a missing value.
                    || (kind.free_text && reads_as_missing(bytes))
            }
        };
        if needs_quotes {
            out.push(self.quote);
        }
        if guarded {
            out.push(b'\'');
        }
        if needs_quotes {
            special.push_doubled(out, bytes);
            out.push(self.quote);
        } else {
            out.extend_from_slice(bytes);
        }
    }

    /// Whether every field of `kind` made only of bytes for which `may_hold` is true, and never
    /// empty, is written exactly as it is: no quotes, no guard, and no chance of being taken for
    /// the NULL string. Such fields can be written straight into the text, unexamined.
    pub fn writes_as_is(&self, kind: FieldKind, may_hold: impl Fn(u8) -> bool) -> bool {
        let quoted_anyway = match self.quoting {
            QuoteStyle::All => true,
            QuoteStyle::NonNumeric => !kind.numeric,
            QuoteStyle::Needed => false,
        };
        let guarded = self.formula_guard && kind.free_text;
        let may_need_quotes = [self.delimiter, self.quote, b'\n', b'\r'].into_iter().any(&may_hold);
        let may_equal_null = !self.null_string.is_empty() && self.null_string.bytes().all(&may_hold);
        let may_read_as_missing = kind.free_text && NULL_MARKERS.iter().any(|marker| marker.bytes().all(&may_hold));
        !(quoted_anyway || guarded || may_need_quotes || may_equal_null || may_read_as_missing)
    }

    /// Appends NULL: the NULL string, never quoted.
    pub fn push_null(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.null_string.as_bytes());
    }

    /// Ends a record.
    pub fn end_record(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.line_ending.bytes());
    }

    /// Appends a whole record: `None` is NULL, written as the NULL string.
    pub fn push_record<'v>(&self, out: &mut Vec<u8>, values: impl Iterator<Item = (Option<&'v str>, FieldKind)>) {
        let special = self.special_bytes();
        for (index, (value, kind)) in values.enumerate() {
            if index > 0 {
                out.push(self.delimiter);
            }
            match value {
                Some(value) => self.push_field_with(&special, out, value.as_bytes(), kind),
                None => self.push_null(out),
            }
        }
        self.end_record(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(style: &CsvStyle, values: &[(Option<&str>, bool)]) -> String {
        let mut out = Vec::new();
        let kind = |text: bool| if text { FieldKind::TEXT } else { FieldKind::NUMBER };
        style.push_record(&mut out, values.iter().map(|&(value, text)| (value, kind(text))));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn quotes_only_what_needs_it_and_keeps_null_apart_from_empty() {
        let style = CsvStyle::default();
        assert_eq!(
            record(
                &style,
                &[
                    (Some("plain"), true),
                    (None, true),
                    (Some(""), true),
                    (Some("a,\"b\"\nc"), true)
                ]
            ),
            "plain,,\"\",\"a,\"\"b\"\"\nc\"\n"
        );
    }

    #[test]
    fn the_formula_guard_touches_text_only() {
        let style = CsvStyle {
            formula_guard: true,
            ..CsvStyle::default()
        };
        assert_eq!(
            record(&style, &[(Some("=SUM(A1)"), true), (Some("-5"), false)]),
            "'=SUM(A1),-5\n"
        );
        assert_eq!(record(&style, &[(Some("@x,y"), true)]), "\"'@x,y\"\n");
        assert_eq!(record(&style, &[(Some("safe"), true)]), "safe\n");
    }

    #[test]
    fn the_formula_guard_prefixes_text_starting_with_each_of_its_six_triggers() {
        let style = CsvStyle {
            formula_guard: true,
            ..CsvStyle::default()
        };
        // = + - @ and tab need no quotes with a comma delimiter: the prefix goes in front.
        for trigger in ["=", "+", "-", "@", "\t"] {
            let value = format!("{trigger}1+2");
            assert_eq!(
                record(&style, &[(Some(value.as_str()), true)]),
                format!("'{value}\n"),
                "{trigger:?}"
            );
            // Without the guard the value is written as it is.
            assert_eq!(
                record(&CsvStyle::default(), &[(Some(value.as_str()), true)]),
                format!("{value}\n"),
                "{trigger:?}"
            );
        }
        // A carriage return also puts the field in quotes; the prefix goes inside them.
        assert_eq!(record(&style, &[(Some("\rcmd"), true)]), "\"'\rcmd\"\n");
        assert_eq!(record(&CsvStyle::default(), &[(Some("\rcmd"), true)]), "\"\rcmd\"\n");
        // With a tab delimiter a leading tab needs quotes too, and still gets its prefix.
        let tabs = CsvStyle {
            delimiter: b'\t',
            ..style.clone()
        };
        assert_eq!(record(&tabs, &[(Some("\tx"), true)]), "\"'\tx\"\n");
        // A trigger counts only at the start of the value.
        assert_eq!(
            record(&style, &[(Some("a=b"), true), (Some("x-1"), true), (Some(" =1"), true)]),
            "a=b,x-1, =1\n"
        );
    }

    #[test]
    fn the_formula_guard_never_changes_a_value_of_a_column_that_is_not_text() {
        let style = CsvStyle {
            formula_guard: true,
            ..CsvStyle::default()
        };
        // Negative numbers, signed exponents, -inf, negative dates: values of number, date and
        // boolean columns, which a spreadsheet reads as values, never as formulas.
        let values = ["-5", "+7", "-0.5", "-1e-05", "-inf", "-0.0", "-2024-01-01"];
        let fields: Vec<(Option<&str>, bool)> = values.iter().map(|value| (Some(*value), false)).collect();
        assert_eq!(record(&style, &fields), format!("{}\n", values.join(",")));
        // The same text in a text column is guarded.
        assert_eq!(record(&style, &[(Some("-5"), true)]), "'-5\n");
    }

    #[test]
    fn every_quote_style_and_null_string_byte_for_byte() {
        let fields = [
            (Some("plain"), true),
            (Some("-12.5"), false),
            (None, true),
            (Some(""), true),
            (Some("NULL"), true),
            (None, false),
        ];
        let style = |quoting, null_string: &str| CsvStyle {
            quoting,
            null_string: null_string.into(),
            ..CsvStyle::default()
        };
        // The text NULL is quoted even with NULL written as an empty field: unquoted, an
        // importer that knows `NULL` as a missing value (Sluice among them) reads it as one.
        assert_eq!(
            record(&style(QuoteStyle::Needed, ""), &fields),
            "plain,-12.5,,\"\",\"NULL\",\n"
        );
        assert_eq!(
            record(&style(QuoteStyle::All, ""), &fields),
            "\"plain\",\"-12.5\",,\"\",\"NULL\",\n"
        );
        assert_eq!(
            record(&style(QuoteStyle::NonNumeric, ""), &fields),
            "\"plain\",-12.5,,\"\",\"NULL\",\n"
        );
        // A NULL marker is never quoted; text equal to it always is, so the two stay apart.
        assert_eq!(
            record(&style(QuoteStyle::Needed, "NULL"), &fields),
            "plain,-12.5,NULL,\"\",\"NULL\",NULL\n"
        );
        assert_eq!(
            record(&style(QuoteStyle::All, "\\N"), &fields),
            "\"plain\",\"-12.5\",\\N,\"\",\"NULL\",\\N\n"
        );
    }

    #[test]
    fn crlf_ends_records_but_leaves_line_breaks_inside_fields_alone() {
        let style = CsvStyle {
            line_ending: LineEnding::CrLf,
            ..CsvStyle::default()
        };
        assert_eq!(
            record(&style, &[(Some("a\nb"), true), (Some("c"), true)]),
            "\"a\nb\",c\r\n"
        );
    }
}
