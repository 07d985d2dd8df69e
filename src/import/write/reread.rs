//! Reading an import's files a second time, from the start, to the records that broke the
//! unique rule: only their raw text and fields are kept, so the good rows never pay for it.
//! Duplicates come in record order, which is file order, so each file is opened once at most.

use crate::import::open::source::FileToRead;
use crate::import::plan::import_plan::ImportPlan;
use crate::import::read::record_reader::RecordReader;
use crate::import::write::pipeline::{self, ParseTotals};
use crate::import::write::unique::{Duplicate, Wording};
use crate::import::{ImportError, ParseError};
use crate::progress::CancelToken;
use crate::records::FailedRow;

/// What reading one of the job's files again needs.
pub(in crate::import) struct RereadFile {
    pub file: FileToRead,
    pub plan: ImportPlan,
}

/// Where each of a job's files lies among its record numbers (numbered from 1 across the files).
#[derive(Clone, Debug, Default)]
pub struct FileSpans {
    /// The last record number of each file (equal to the previous one for a file of no rows).
    ends: Vec<u64>,
}

impl FileSpans {
    pub fn new(per_file: &[ParseTotals]) -> Self {
        let ends = per_file
            .iter()
            .scan(0u64, |end, totals| {
                *end += totals.rows_read;
                Some(*end)
            })
            .collect();
        Self { ends }
    }

    /// The file a record number of the job is in.
    pub fn file_of(&self, record_no: u64) -> Option<usize> {
        let index = self.ends.partition_point(|&end| end < record_no);
        (record_no > 0 && index < self.ends.len()).then_some(index)
    }

    /// Records in the files before file `index`.
    pub fn records_before(&self, index: usize) -> u64 {
        index
            .checked_sub(1)
            .and_then(|before| self.ends.get(before))
            .copied()
            .unwrap_or(0)
    }
}

/// The reader of the file being read again, positioned after its `record_no`th data record.
struct OpenFile {
    index: usize,
    reader: RecordReader<Box<dyn std::io::Read + Send>>,
    record_no: u64,
    /// Records above the header still to pass over.
    skip_pending: usize,
    header_pending: usize,
}

/// The job's files read again, in order.
pub struct Reread<'f> {
    files: &'f [RereadFile],
    spans: &'f FileSpans,
    open: Option<OpenFile>,
}

impl<'f> Reread<'f> {
    pub fn new(files: &'f [RereadFile], spans: &'f FileSpans) -> Self {
        Self {
            files,
            spans,
            open: None,
        }
    }

    /// The failed row of `duplicate`, which must come after every record asked for so far.
    /// `problems` words its problems from its plan and fields.
    pub fn failed_row(
        &mut self,
        duplicate: &Duplicate,
        cancel: &CancelToken,
        problems: &Wording<'_>,
    ) -> Result<FailedRow, ImportError> {
        let index = self.spans.file_of(duplicate.record_no);
        let Some(RereadFile { file, plan }) = index.and_then(|index| self.files.get(index)) else {
            return Err(ImportError::Reread(format!(
                "record {} is in none of the import's files",
                duplicate.record_no
            )));
        };
        let index = index.unwrap_or_default();
        let changed = || ImportError::FileChanged {
            path: file.path.clone(),
            line: duplicate.line,
        };
        let open = match self.open.take() {
            Some(open) if open.index == index => open,
            Some(open) if open.index > index => {
                return Err(ImportError::Reread(
                    "the rows that broke the unique rule came out of order".to_string(),
                ));
            }
            _ => OpenFile {
                index,
                reader: {
                    let source = file.open()?;
                    RecordReader::new(source.reader, plan.layout.dialect).numbering_from(source.first_line)
                },
                record_no: 0,
                skip_pending: plan.layout.skip_records,
                header_pending: plan.layout.header_records(),
            },
        };
        let open = self.open.insert(open);
        let wanted = duplicate.record_no - self.spans.records_before(index);
        loop {
            let record = open
                .reader
                .next_record()
                .map_err(|error| ImportError::Reread(error.to_string()))?
                .ok_or_else(changed)?;
            if plan.is_comment(&record) || plan.is_blank(&record) {
                continue;
            }
            if open.skip_pending > 0 {
                open.skip_pending -= 1;
                continue;
            }
            if open.header_pending > 0 {
                open.header_pending -= 1;
                continue;
            }
            open.record_no += 1;
            if open.record_no < wanted {
                if open.record_no.is_multiple_of(4096) && cancel.is_cancelled() {
                    return Err(ImportError::Parse(ParseError::Cancelled));
                }
                continue;
            }
            if open.record_no > wanted || record.line != duplicate.line {
                return Err(changed());
            }
            let mut row = pipeline::failed_row(duplicate.record_no, &record, Vec::new());
            row.file = Some(file.label.clone());
            pipeline::drop_trailing_field(&mut row, plan.layout.trailing_fields(), plan.field_count());
            row.problems = problems(duplicate, plan, &row.fields);
            return Ok(row);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_numbers_find_their_file_even_past_an_empty_one() {
        let totals = |rows_read| ParseTotals {
            rows_read,
            ..ParseTotals::default()
        };
        let spans = FileSpans::new(&[totals(3), totals(0), totals(2)]);
        let files: Vec<Option<usize>> = (0..=6).map(|record_no| spans.file_of(record_no)).collect();
        assert_eq!(files, [None, Some(0), Some(0), Some(0), Some(2), Some(2), None]);
        assert_eq!(spans.records_before(2), 3);
        assert_eq!(spans.records_before(0), 0);
    }
}
