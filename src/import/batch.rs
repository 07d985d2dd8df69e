//! Building Arrow record batches from validated rows, the form in which rows reach DuckDB's
//! appender: one columnar copy per batch instead of one call per value.

use std::sync::Arc;

use duckdb::arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder, Int32Builder, Int64Builder,
    StringBuilder, TimestampMicrosecondBuilder,
};
use duckdb::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use duckdb::arrow::error::ArrowError;
use duckdb::arrow::record_batch::RecordBatch;

use super::plan::ColumnPlan;
use super::records::Record;
use super::types::ColumnType;
use super::unique;
use super::validate::Cell;

/// Accumulates rows for the planned columns and hands them out as record batches.
pub struct BatchBuilder {
    schema: SchemaRef,
    columns: Vec<ColumnBuilder>,
    sources: Vec<usize>,
    rows: usize,
    provenance: Option<Provenance>,
}

/// Where each row came from, for a staging table (see `unique`): record number, line, byte
/// offset and raw text.
struct Provenance {
    record_no: Int64Builder,
    line: Int64Builder,
    byte_offset: Int64Builder,
    raw: StringBuilder,
}

enum ColumnBuilder {
    Boolean(BooleanBuilder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    Float64(Float64Builder),
    Decimal(Decimal128Builder),
    Utf8(StringBuilder),
    Date(Date32Builder),
    Timestamp(TimestampMicrosecondBuilder),
}

/// The Arrow type a column is carried in on its way to DuckDB.
pub fn arrow_type(column_type: ColumnType) -> DataType {
    match column_type {
        ColumnType::Boolean => DataType::Boolean,
        ColumnType::Integer => DataType::Int32,
        ColumnType::BigInt => DataType::Int64,
        ColumnType::Double => DataType::Float64,
        ColumnType::Decimal { precision, scale } => DataType::Decimal128(precision, scale as i8),
        ColumnType::Varchar => DataType::Utf8,
        ColumnType::Date => DataType::Date32,
        ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
    }
}

impl BatchBuilder {
    /// A builder for the planned columns; `with_provenance` adds the staging table's columns.
    pub fn new(columns: &[ColumnPlan], capacity: usize, with_provenance: bool) -> Result<Self, ArrowError> {
        let mut fields: Vec<Field> = columns
            .iter()
            .map(|column| Field::new(&column.name, arrow_type(column.column_type), true))
            .collect();
        let provenance = with_provenance.then(|| {
            for name in [unique::RECORD_NO, unique::LINE, unique::BYTE_OFFSET] {
                fields.push(Field::new(name, DataType::Int64, false));
            }
            fields.push(Field::new(unique::RAW, DataType::Utf8, false));
            Provenance {
                record_no: Int64Builder::with_capacity(capacity),
                line: Int64Builder::with_capacity(capacity),
                byte_offset: Int64Builder::with_capacity(capacity),
                raw: StringBuilder::with_capacity(capacity, capacity * 64),
            }
        });
        let builders = columns
            .iter()
            .map(|column| ColumnBuilder::new(column.column_type, capacity))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            schema: Arc::new(Schema::new(fields)),
            columns: builders,
            sources: columns.iter().map(|column| column.source_index).collect(),
            rows: 0,
            provenance,
        })
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Appends a row that passed validation: one cell per planned column. `record_no` is its
    /// place among the data records, kept only with provenance.
    pub fn push(&mut self, record: &Record<'_>, cells: &[Cell], record_no: u64) {
        for ((builder, cell), source) in self.columns.iter_mut().zip(cells).zip(&self.sources) {
            let text = record
                .field(*source)
                .and_then(|field| std::str::from_utf8(field).ok())
                .unwrap_or_default();
            builder.push(*cell, text);
        }
        if let Some(provenance) = &mut self.provenance {
            provenance.record_no.append_value(record_no as i64);
            provenance.line.append_value(record.line as i64);
            provenance.byte_offset.append_value(record.byte_offset as i64);
            provenance.raw.append_value(String::from_utf8_lossy(record.raw));
        }
        self.rows += 1;
    }

    /// Takes the rows gathered so far as a batch; the builder starts empty again.
    pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let mut arrays: Vec<ArrayRef> = self.columns.iter_mut().map(ColumnBuilder::finish).collect();
        if let Some(provenance) = &mut self.provenance {
            arrays.push(Arc::new(provenance.record_no.finish()));
            arrays.push(Arc::new(provenance.line.finish()));
            arrays.push(Arc::new(provenance.byte_offset.finish()));
            arrays.push(Arc::new(provenance.raw.finish()));
        }
        self.rows = 0;
        RecordBatch::try_new(self.schema.clone(), arrays)
    }
}

impl ColumnBuilder {
    fn new(column_type: ColumnType, capacity: usize) -> Result<Self, ArrowError> {
        Ok(match column_type {
            ColumnType::Boolean => Self::Boolean(BooleanBuilder::with_capacity(capacity)),
            ColumnType::Integer => Self::Int32(Int32Builder::with_capacity(capacity)),
            ColumnType::BigInt => Self::Int64(Int64Builder::with_capacity(capacity)),
            ColumnType::Double => Self::Float64(Float64Builder::with_capacity(capacity)),
            ColumnType::Decimal { precision, scale } => Self::Decimal(
                Decimal128Builder::with_capacity(capacity).with_precision_and_scale(precision, scale as i8)?,
            ),
            ColumnType::Varchar => Self::Utf8(StringBuilder::with_capacity(capacity, capacity * 16)),
            ColumnType::Date => Self::Date(Date32Builder::with_capacity(capacity)),
            ColumnType::Timestamp => Self::Timestamp(TimestampMicrosecondBuilder::with_capacity(capacity)),
        })
    }

    /// Appends one value. A cell of the wrong kind cannot come out of validation; it is stored as
    /// NULL rather than trusted.
    fn push(&mut self, cell: Cell, text: &str) {
        match (self, cell) {
            (Self::Boolean(builder), Cell::Bool(value)) => builder.append_value(value),
            (Self::Int32(builder), Cell::Int(value)) => builder.append_option(i32::try_from(value).ok()),
            (Self::Int64(builder), Cell::Int(value)) => builder.append_value(value),
            (Self::Float64(builder), Cell::Float(value)) => builder.append_value(value),
            (Self::Decimal(builder), Cell::Decimal(value)) => builder.append_value(value),
            (Self::Utf8(builder), Cell::Text) => builder.append_value(text),
            (Self::Date(builder), Cell::Date(value)) => builder.append_value(value),
            (Self::Timestamp(builder), Cell::Timestamp(value)) => builder.append_value(value),
            (builder, _) => builder.append_null(),
        }
    }

    fn append_null(&mut self) {
        match self {
            Self::Boolean(builder) => builder.append_null(),
            Self::Int32(builder) => builder.append_null(),
            Self::Int64(builder) => builder.append_null(),
            Self::Float64(builder) => builder.append_null(),
            Self::Decimal(builder) => builder.append_null(),
            Self::Utf8(builder) => builder.append_null(),
            Self::Date(builder) => builder.append_null(),
            Self::Timestamp(builder) => builder.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Self::Boolean(builder) => Arc::new(builder.finish()),
            Self::Int32(builder) => Arc::new(builder.finish()),
            Self::Int64(builder) => Arc::new(builder.finish()),
            Self::Float64(builder) => Arc::new(builder.finish()),
            Self::Decimal(builder) => Arc::new(builder.finish()),
            Self::Utf8(builder) => Arc::new(builder.finish()),
            Self::Date(builder) => Arc::new(builder.finish()),
            Self::Timestamp(builder) => Arc::new(builder.finish()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::plan::Rules;
    use crate::import::records::{Dialect, RecordReader};
    use duckdb::arrow::array::{Array, Int64Array, StringArray};

    #[test]
    fn builds_typed_columns_with_nulls() {
        let plans = vec![
            ColumnPlan {
                name: "id".into(),
                column_type: ColumnType::BigInt,
                source_index: 1,
                rules: Rules::default(),
            },
            ColumnPlan {
                name: "name".into(),
                column_type: ColumnType::Varchar,
                source_index: 0,
                rules: Rules::default(),
            },
        ];
        let mut builder = BatchBuilder::new(&plans, 4, false).unwrap();
        let mut reader = RecordReader::new(&b"ann,1\nbob,\n"[..], Dialect::default());
        builder.push(&reader.next_record().unwrap().unwrap(), &[Cell::Int(1), Cell::Text], 1);
        builder.push(&reader.next_record().unwrap().unwrap(), &[Cell::Null, Cell::Text], 2);
        let batch = builder.finish().unwrap();
        assert_eq!(batch.num_rows(), 2);
        let ids = batch.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(ids.value(0), 1);
        assert!(ids.is_null(1));
        let names = batch.column(1).as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(names.value(1), "bob");
        assert!(builder.is_empty());
    }
}
