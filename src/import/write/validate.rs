//! Checking one record against the plan: shape, encoding, types and rules. A record either yields
//! one typed cell per target column or a list of every problem it has; it never yields both.

use crate::import::plan::import_plan::{ColumnPlan, ImportPlan};
use crate::import::read::record_reader::{Defect, Record};
use crate::import::sniff::table_end::{is_summary_label, summary_label};
use crate::import::sniff::types::{ColumnType, trimmed};
use crate::import::write::cell::{Cell, convert_field, plural};
use crate::records::{Problem, ProblemKind};

/// Checks records against a plan. The `unique` rule is not checked here: it needs every value
/// seen so far, which grows with the file, so it is checked in DuckDB once the rows are staged
/// (see `unique`).
pub struct RowValidator {
    plan: ImportPlan,
}

impl RowValidator {
    pub fn new(plan: ImportPlan) -> Self {
        Self { plan }
    }

    pub fn plan(&self) -> &ImportPlan {
        &self.plan
    }

    /// Converts `record` into `cells`, or fills `problems`. Returns whether the row is good.
    /// `encoding_damaged` says the transcoder replaced bad bytes inside this record.
    pub fn check(
        &self,
        record: &Record<'_>,
        encoding_damaged: bool,
        cells: &mut Vec<Cell>,
        problems: &mut Vec<Problem>,
    ) -> bool {
        cells.clear();
        problems.clear();
        if let Some(defect) = record.defect {
            problems.push(defect_problem(defect));
            return false;
        }
        if let Some(problem) = self.not_data(record) {
            problems.push(problem);
            return false;
        }
        self.check_shape(record, problems);
        if encoding_damaged {
            problems.push(self.damaged_bytes_problem());
        }
        // Every field's text is checked as UTF-8 in one pass; only when some field is not is each
        // looked at, to name it.
        if record.text().is_none() {
            self.check_utf8(record, problems);
        }
        // Which fields were quoted, found once per record and only when an empty text field asks.
        let mut quoted: Option<Vec<bool>> = None;
        for column in &self.plan.columns {
            // A value with bad bytes already has its problem; converting it would only add noise.
            let Some(text) = column.source.text(record) else {
                cells.push(Cell::Null);
                continue;
            };
            let quoted_text = self.is_quoted_text(column, text, record, &mut quoted);
            match convert_field(column, text, quoted_text) {
                Ok(cell) => cells.push(cell),
                Err(problem) => {
                    cells.push(Cell::Null);
                    problems.push(problem);
                }
            }
        }
        if problems.len() >= 2 && self.reads_as_header(record, cells, problems) {
            problems.clear();
            problems.push(Problem {
                field_index: None,
                column: None,
                kind: ProblemKind::HeaderLine,
                message: "no value fits its column's type: this looks like a header line, so a second \
                          table may start here"
                    .to_string(),
            });
        }
        problems.is_empty()
    }

    /// The problem of a row holding bytes the file's encoding cannot read.
    fn damaged_bytes_problem(&self) -> Problem {
        Problem {
            field_index: None,
            column: None,
            kind: ProblemKind::Encoding,
            message: format!(
                "the row has bytes that {}, the encoding the file is read in, cannot read (shown as \u{FFFD}); {}",
                self.plan.layout.encoding.encoding.name(),
                self.another_encoding(None)
            ),
        }
    }

    /// Whether `text`, a field of `column` in `record`, is quoted text rather than a missing
    /// value. `""` in a text column is an empty string; nothing between the delimiters is NULL.
    /// And `"NA"` is the text NA where an unquoted NA is a missing value: always for a marker the
    /// person gave (PostgreSQL's COPY reads its quoted NULL string so), and for a detected one in
    /// a record quoted where needed (a writer that quotes every field says nothing by quoting
    /// one). `quoted` holds which fields were quoted, found once per record and only when asked.
    fn is_quoted_text(
        &self,
        column: &ColumnPlan,
        text: &str,
        record: &Record<'_>,
        quoted: &mut Option<Vec<bool>>,
    ) -> bool {
        let marker =
            !text.is_empty() && column.format.has_null_markers() && column.format.is_null_marker(trimmed(text));
        if !(text.is_empty() || marker) || column.column_type != ColumnType::Varchar {
            return false;
        }
        let stated = marker
            && self
                .plan
                .stated_null_markers
                .iter()
                .any(|stated| stated == trimmed(text));
        column.field_index().is_some_and(|index| {
            let flags = quoted.get_or_insert_with(|| {
                let mut flags = Vec::new();
                record.quoted_fields(&mut flags);
                flags
            });
            let quoted_here = flags.get(index).copied().unwrap_or(false);
            let quoted_where_needed = || {
                flags
                    .iter()
                    .enumerate()
                    .any(|(other, &quoted)| !quoted && record.field(other).is_some_and(|field| !field.is_empty()))
            };
            quoted_here && (!marker || stated || quoted_where_needed())
        })
    }

    /// A line that is not data whatever its values: the header repeated, or a total line in a
    /// file that has them. Only the first field is looked at on most lines.
    fn not_data(&self, record: &Record<'_>) -> Option<Problem> {
        let header = &self.plan.layout.repeated_header();
        let same = |index: usize, name: &String| record.field_str(index).map(trimmed) == Some(trimmed(name));
        if let Some(first) = header.first()
            && record.len() >= header.len()
            && same(0, first)
            && header.iter().enumerate().all(|(index, name)| same(index, name))
            && header.iter().any(|name| !name.trim().is_empty())
        {
            return Some(Problem {
                field_index: None,
                column: None,
                kind: ProblemKind::HeaderLine,
                message: "the line repeats the header (files joined together?); it is not data".to_string(),
            });
        }
        if self.plan.layout.summary_rows {
            let label = summary_label(
                record
                    .fields()
                    .map(|field| std::str::from_utf8(field).unwrap_or_default()),
            );
            if let Some(label) = label.filter(|label| is_summary_label(label)) {
                return Some(Problem {
                    field_index: None,
                    column: None,
                    kind: ProblemKind::SummaryRow,
                    message: format!(
                        "'{}' labels a total or summary line, not a data row; it is kept here so that it is not \
                         added to the rows it sums",
                        label.trim()
                    ),
                });
            }
        }
        None
    }

    /// Whether a failed row has names where the data has typed values: only invalid values, at
    /// least two of them text with letters, and no typed column with a value.
    fn reads_as_header(&self, record: &Record<'_>, cells: &[Cell], problems: &[Problem]) -> bool {
        if problems.iter().any(|problem| problem.kind != ProblemKind::InvalidValue) {
            return false;
        }
        let typed_value = self
            .plan
            .columns
            .iter()
            .zip(cells)
            .any(|(column, cell)| column.column_type != ColumnType::Varchar && !matches!(cell, Cell::Null));
        let named = problems
            .iter()
            .filter_map(|problem| problem.field_index)
            .filter_map(|index| record.field(index))
            .filter(|field| std::str::from_utf8(field).is_ok_and(|text| text.chars().any(char::is_alphabetic)))
            .count();
        !typed_value && named >= 2
    }

    fn check_shape(&self, record: &Record<'_>, problems: &mut Vec<Problem>) {
        let expected = self.plan.field_count();
        let found = record.len();
        if found == expected
            || (found > expected
                && found <= expected + self.plan.layout.trailing_fields()
                && ends_empty_from(record, expected))
            || (self.plan.pad_missing && found < expected)
        {
            return;
        }
        let (kind, relation) = if found < expected {
            (ProblemKind::TooFewFields, "fewer")
        } else {
            (ProblemKind::TooManyFields, "more")
        };
        let reference = if self.plan.layout.has_header {
            "the header"
        } else {
            "the first rows"
        };
        problems.push(Problem {
            field_index: None,
            column: None,
            kind,
            message: format!(
                "the row has {found} field{} but {reference} {} {expected}: {relation} than expected \
                 (check for a missing or extra delimiter or an unquoted value containing one)",
                plural(found),
                if self.plan.layout.has_header { "has" } else { "have" },
            ),
        });
    }

    /// What a person whose row has bytes the file's encoding cannot read can do about it. The
    /// encoding that would read them is the sniff's, or, for bad bytes past the sample the sniff
    /// saw, the one the detector reads the row's own bytes in.
    fn another_encoding(&self, raw: Option<&[u8]>) -> String {
        let readable_in = self
            .plan
            .layout
            .readable_in
            .or_else(|| raw.map(|raw| crate::import::open::encoding::legacy_encoding(raw, true)));
        match readable_in {
            Some(encoding) if encoding != self.plan.layout.encoding.encoding => format!(
                "{} reads it: choose that encoding for the file, or fix the row",
                encoding.name()
            ),
            _ => "choose the encoding the file was written in, or fix the row".to_string(),
        }
    }

    fn check_utf8(&self, record: &Record<'_>, problems: &mut Vec<Problem>) {
        for (index, field) in record.fields().enumerate() {
            if let Err(error) = std::str::from_utf8(field) {
                let offset = error.valid_up_to();
                problems.push(Problem {
                    field_index: Some(index),
                    column: self.plan.source_columns().get(index).cloned(),
                    kind: ProblemKind::Encoding,
                    message: format!(
                        "byte 0x{:02X} at position {} of the value is not valid {}, the encoding the file is read in; {}",
                        field[offset],
                        offset + 1,
                        self.plan.layout.encoding.encoding.name(),
                        self.another_encoding(Some(record.raw))
                    ),
                });
            }
        }
    }
}

impl ImportPlan {
    /// Whether `record` is a comment line: it starts with the comment prefix and, when the
    /// prefix was only detected, it does not have the table's width.
    pub fn is_comment(&self, record: &Record<'_>) -> bool {
        self.layout
            .comment
            .is_some_and(|prefix| record.raw.first() == Some(&prefix))
            && (!self.layout.comment_detected || record.len() != self.field_count())
    }

    /// Whether `record` is a line of delimiters only (`,,,,`): a blank line to a person, which a
    /// spreadsheet writes for an empty row. It is skipped and counted as blank, not a row of NULLs.
    pub fn is_blank(&self, record: &Record<'_>) -> bool {
        crate::import::read::record_reader::is_delimiters_only(record.raw, self.layout.dialect.delimiter)
    }
}

/// Whether a record's fields from `first` on are empty, as a trailing delimiter (and unnamed
/// empty columns) leave them.
pub fn ends_empty_from(record: &Record<'_>, first: usize) -> bool {
    (first..record.len()).all(|index| {
        record
            .field(index)
            .is_some_and(|field| field.iter().all(u8::is_ascii_whitespace))
    })
}

fn defect_problem(defect: Defect) -> Problem {
    let (kind, message) = match defect {
        Defect::UnclosedQuote { .. } => (
            ProblemKind::UnclosedQuote,
            "a quote opened on this line is never closed; this line was set aside and reading went \
             on from the next line"
                .to_string(),
        ),
        Defect::LineTooLong { limit } => (
            ProblemKind::LineTooLong,
            format!(
                "the line is longer than {} MiB; only its start is kept",
                limit / (1024 * 1024)
            ),
        ),
    };
    Problem {
        field_index: None,
        column: None,
        kind,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::plan::import_plan::{FieldSource, Rules};
    use crate::import::plan::schema::compile_pattern;
    use crate::import::read::record_reader::{Dialect, RecordReader};
    use crate::import::sniff::file_layout::FileLayout;
    use crate::import::write::cell::*;

    fn column(column_type: ColumnType, rules: Rules) -> ColumnPlan {
        ColumnPlan {
            name: "c".into(),
            column_type,
            source: FieldSource::Field(0),
            rules,
            format: Default::default(),
        }
    }

    #[test]
    fn converts_and_nulls_empty_fields() {
        assert_eq!(
            convert(&column(ColumnType::BigInt, Rules::default()), " 42 "),
            Ok(Cell::Int(42))
        );
        assert_eq!(
            convert(&column(ColumnType::BigInt, Rules::default()), ""),
            Ok(Cell::Null)
        );
        assert_eq!(
            convert(&column(ColumnType::Varchar, Rules::default()), " x "),
            Ok(Cell::Text)
        );
    }

    #[test]
    fn each_rule_fails_with_its_kind() {
        let kind = |column_type, rules, text| convert(&column(column_type, rules), text).unwrap_err().kind;
        let required = Rules {
            required: true,
            ..Rules::default()
        };
        assert_eq!(kind(ColumnType::Varchar, required, ""), ProblemKind::Required);
        assert_eq!(
            kind(ColumnType::Integer, Rules::default(), "3000000000"),
            ProblemKind::InvalidValue
        );
        let pattern = Rules {
            pattern: Some(compile_pattern("[a-z]+@[a-z]+").unwrap()),
            ..Rules::default()
        };
        assert_eq!(kind(ColumnType::Varchar, pattern, "nobody"), ProblemKind::Pattern);
        let range = Rules {
            min: Some(0.0),
            max: Some(10.0),
            ..Rules::default()
        };
        assert_eq!(kind(ColumnType::Double, range.clone(), "-1"), ProblemKind::OutOfRange);
        assert_eq!(kind(ColumnType::BigInt, range, "11"), ProblemKind::OutOfRange);
        let length = Rules {
            min_length: Some(2),
            max_length: Some(3),
            ..Rules::default()
        };
        assert_eq!(kind(ColumnType::Varchar, length.clone(), "a"), ProblemKind::Length);
        assert_eq!(kind(ColumnType::Varchar, length, "abcd"), ProblemKind::Length);
        let allowed = Rules {
            one_of: Some(vec!["DE".into(), "FR".into()]),
            ..Rules::default()
        };
        assert_eq!(kind(ColumnType::Varchar, allowed, "US"), ProblemKind::NotAllowed);
    }

    #[test]
    fn messages_say_what_was_expected() {
        let problem = convert(&column(ColumnType::Date, Rules::default()), "03/04/2024").unwrap_err();
        assert_eq!(
            problem.message,
            "'03/04/2024' is not a valid DATE (expected YYYY-MM-DD)"
        );
        assert_eq!(problem.column.as_deref(), Some("c"));
    }

    fn plan() -> ImportPlan {
        let mut layout = FileLayout::of_columns(
            &["id".into(), "name".into()],
            vec![ColumnType::BigInt, ColumnType::Varchar],
        );
        layout.header_line = Vec::new();
        ImportPlan {
            layout,
            pad_missing: false,
            stated_null_markers: Vec::new(),
            columns: vec![
                ColumnPlan {
                    name: "id".into(),
                    column_type: ColumnType::BigInt,
                    source: FieldSource::Field(0),
                    rules: Rules::default(),
                    format: Default::default(),
                },
                ColumnPlan {
                    name: "name".into(),
                    column_type: ColumnType::Varchar,
                    source: FieldSource::Field(1),
                    rules: Rules::default(),
                    format: Default::default(),
                },
            ],
        }
    }

    fn check_all(validator: &RowValidator, input: &[u8]) -> Vec<Vec<ProblemKind>> {
        let mut reader = RecordReader::new(input, Dialect::default());
        let (mut cells, mut problems) = (Vec::new(), Vec::new());
        let mut outcomes = Vec::new();
        while let Some(record) = reader.next_record().unwrap() {
            validator.check(&record, false, &mut cells, &mut problems);
            outcomes.push(problems.iter().map(|p| p.kind).collect());
        }
        outcomes
    }

    #[test]
    fn a_quoted_null_marker_in_a_text_column_is_the_text() {
        let mut plan = plan();
        let markers = crate::import::ValueFormat {
            null_markers: Some(vec!["NA".into()]),
            ..Default::default()
        };
        plan.columns[1].format = crate::import::ColumnFormat::new(&markers);
        plan.columns[0].format = crate::import::ColumnFormat::new(&markers);
        let validator = RowValidator::new(plan);
        let input = b"1,NA\n2,\"NA\"\n\"NA\",x\n\"3\",\"NA\"\n";
        let mut reader = RecordReader::new(&input[..], Dialect::default());
        let (mut cells, mut problems) = (Vec::new(), Vec::new());
        let mut rows = Vec::new();
        while let Some(record) = reader.next_record().unwrap() {
            validator.check(&record, false, &mut cells, &mut problems);
            rows.push(cells.clone());
        }
        assert_eq!(rows[0][1], Cell::Null, "NA unquoted is missing");
        assert_eq!(rows[1][1], Cell::Text, "\"NA\" quoted is the text");
        assert_eq!(rows[2][0], Cell::Null, "a number column has no text NA, quoted or not");
        assert_eq!(rows[3][1], Cell::Null, "every field quoted: the quotes say nothing");
        // A marker the person gave is text in quotes wherever it is, as PostgreSQL reads it.
        let mut stated = self::plan();
        stated.columns[1].format = crate::import::ColumnFormat::new(&markers);
        stated.stated_null_markers = vec!["NA".into()];
        let validator = RowValidator::new(stated);
        let mut reader = RecordReader::new(&b"\"3\",\"NA\"\n"[..], Dialect::default());
        let record = reader.next_record().unwrap().unwrap();
        validator.check(&record, false, &mut cells, &mut problems);
        assert_eq!(cells[1], Cell::Text, "a stated marker in quotes is the text");
    }

    #[test]
    fn a_row_keeps_all_of_its_problems() {
        let validator = RowValidator::new(plan());
        let outcomes = check_all(&validator, b"x\n\"bad\xff\",y\n");
        assert_eq!(outcomes[0], vec![ProblemKind::TooFewFields, ProblemKind::InvalidValue]);
        // A value with bad bytes is reported once, as an encoding problem, not also as a bad number.
        assert_eq!(outcomes[1], vec![ProblemKind::Encoding]);
    }

    fn messages(validator: &RowValidator, input: &[u8], encoding_damaged: bool) -> Vec<String> {
        let mut reader = RecordReader::new(input, Dialect::default());
        let record = reader.next_record().unwrap().unwrap();
        let (mut cells, mut problems) = (Vec::new(), Vec::new());
        validator.check(&record, encoding_damaged, &mut cells, &mut problems);
        problems.into_iter().map(|problem| problem.message).collect()
    }

    #[test]
    fn a_row_the_files_encoding_cannot_read_names_that_encoding_and_the_one_that_would() {
        let mut kept_utf8 = plan();
        kept_utf8.layout.readable_in = Some(encoding_rs::WINDOWS_1252);
        let kept_utf8 = RowValidator::new(kept_utf8);
        assert_eq!(
            messages(&kept_utf8, b"1,caf\xe9\n", false),
            [
                "byte 0xE9 at position 4 of the value is not valid UTF-8, the encoding the file is read in; \
              windows-1252 reads it: choose that encoding for the file, or fix the row"
            ]
        );
        // Bad bytes past the sample the sniff saw: the row's own bytes tell what reads them.
        let sniffed_clean = RowValidator::new(plan());
        assert_eq!(
            messages(&sniffed_clean, b"2,\xc9t\xe9\n", false),
            [
                "byte 0xC9 at position 1 of the value is not valid UTF-8, the encoding the file is read in; \
              windows-1252 reads it: choose that encoding for the file, or fix the row"
            ]
        );
        let mut big5 = plan();
        big5.layout.encoding.encoding = encoding_rs::BIG5;
        let big5 = RowValidator::new(big5);
        let said = messages(&big5, "1,\u{FFFD}\n".as_bytes(), true);
        assert_eq!(
            said,
            [
                "the row has bytes that Big5, the encoding the file is read in, cannot read (shown as \u{FFFD}); \
              choose the encoding the file was written in, or fix the row"
            ]
        );
    }

    #[test]
    fn fields_are_cut_from_the_record_text_at_their_own_bounds_around_multibyte_characters() {
        let validator = RowValidator::new(plan());
        let input = "1,Zoë\n-22,\u{a0}Ångström ✓\n\u{2003}3\u{a0},\n".as_bytes();
        let mut reader = RecordReader::new(input, Dialect::default());
        let (mut cells, mut problems) = (Vec::new(), Vec::new());
        let mut rows = Vec::new();
        while let Some(record) = reader.next_record().unwrap() {
            assert!(
                validator.check(&record, false, &mut cells, &mut problems),
                "{problems:?}"
            );
            rows.push(cells.clone());
        }
        assert_eq!(
            rows,
            vec![
                vec![Cell::Int(1), Cell::Text],
                vec![Cell::Int(-22), Cell::Text],
                // Unicode spaces around a number are trimmed; a text field keeps its own.
                vec![Cell::Int(3), Cell::Null],
            ]
        );
        // Bad bytes in one field leave the other converted: the number 7, and "x" refused.
        let outcomes = check_all(
            &validator,
            b"7,caf\xc3\xa9 \xff\nx,caf\xc3\xa9 \xff\n\xff,caf\xc3\xa9\n",
        );
        assert_eq!(
            outcomes,
            vec![
                vec![ProblemKind::Encoding],
                vec![ProblemKind::Encoding, ProblemKind::InvalidValue],
                vec![ProblemKind::Encoding]
            ]
        );
    }
}
