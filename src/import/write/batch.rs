//! Building Arrow record batches from validated rows, the form in which rows reach DuckDB's
//! appender: one columnar copy per batch instead of one call per value.

use std::sync::Arc;

use duckdb::arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder, Int32Builder, Int64Builder,
    StringBuilder, Time64MicrosecondBuilder, TimestampMicrosecondBuilder,
};
use duckdb::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use duckdb::arrow::error::ArrowError;
use duckdb::arrow::record_batch::RecordBatch;

use crate::import::plan::import_plan::{ColumnPlan, FieldSource};
use crate::import::read::record_reader::Record;
use crate::import::sniff::types::ColumnType;
use crate::import::write::cell::Cell;
use crate::import::write::unique;

/// Accumulates rows for the planned columns and hands them out as record batches.
pub struct BatchBuilder {
    schema: SchemaRef,
    columns: Vec<ColumnBuilder>,
    sources: Vec<FieldSource>,
    rows: usize,
    keys: Option<KeyBuilder>,
}

/// The unique check's keys of each row (see `unique`): its place among the good rows, its
/// record number, its line and its values in the unique columns.
struct KeyBuilder {
    schema: SchemaRef,
    /// Indexes into the planned columns of the unique ones.
    columns: Vec<usize>,
    ordinal: Int64Builder,
    record_no: Int64Builder,
    line: Int64Builder,
    values: Vec<ColumnBuilder>,
    /// Good rows so far, across batches: the next row's ordinal.
    next_ordinal: i64,
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
    Time(Time64MicrosecondBuilder),
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
        ColumnType::TimestampTz => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        ColumnType::Time => DataType::Time64(TimeUnit::Microsecond),
    }
}

impl BatchBuilder {
    /// A builder for the planned columns; `key_columns` (indexes into them) are also gathered
    /// into a keys batch for the unique check, when there are any.
    pub fn new(columns: &[ColumnPlan], capacity: usize, key_columns: &[usize]) -> Result<Self, ArrowError> {
        let fields: Vec<Field> = columns
            .iter()
            .map(|column| Field::new(&column.name, arrow_type(column.column_type), true))
            .collect();
        let builders = columns
            .iter()
            .map(|column| ColumnBuilder::new(column.column_type, capacity))
            .collect::<Result<_, _>>()?;
        let keys = if key_columns.is_empty() {
            None
        } else {
            let mut key_fields = vec![
                Field::new(unique::ORDINAL, DataType::Int64, false),
                Field::new(unique::RECORD_NO, DataType::Int64, false),
                Field::new(unique::LINE, DataType::Int64, false),
            ];
            let mut values = Vec::with_capacity(key_columns.len());
            for (key, &index) in key_columns.iter().enumerate() {
                let column_type = columns[index].column_type;
                key_fields.push(Field::new(format!("key_{key}"), arrow_type(column_type), true));
                values.push(ColumnBuilder::new(column_type, capacity)?);
            }
            Some(KeyBuilder {
                schema: Arc::new(Schema::new(key_fields)),
                columns: key_columns.to_vec(),
                ordinal: Int64Builder::with_capacity(capacity),
                record_no: Int64Builder::with_capacity(capacity),
                line: Int64Builder::with_capacity(capacity),
                values,
                next_ordinal: 0,
            })
        };
        Ok(Self {
            schema: Arc::new(Schema::new(fields)),
            columns: builders,
            sources: columns.iter().map(|column| column.source.clone()).collect(),
            rows: 0,
            keys,
        })
    }

    /// Numbers the rows' keys from `ordinal` on: the good rows of a job's earlier files come
    /// before them in the table.
    pub fn number_from(&mut self, ordinal: u64) {
        if let Some(keys) = &mut self.keys {
            keys.next_ordinal = ordinal as i64;
        }
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Appends a row that passed validation: one cell per planned column. `record_no` is its
    /// place among the data records, kept only with keys.
    pub fn push(&mut self, record: &Record<'_>, cells: &[Cell], record_no: u64) {
        for ((builder, cell), source) in self.columns.iter_mut().zip(cells).zip(&self.sources) {
            builder.push(*cell, record, source);
        }
        if let Some(keys) = &mut self.keys {
            keys.ordinal.append_value(keys.next_ordinal);
            keys.next_ordinal += 1;
            keys.record_no.append_value(record_no as i64);
            keys.line.append_value(record.line as i64);
            for (builder, &index) in keys.values.iter_mut().zip(&keys.columns) {
                builder.push(cells[index], record, &self.sources[index]);
            }
        }
        self.rows += 1;
    }

    /// Takes the rows gathered so far as a batch, with their keys batch when keys are gathered;
    /// the builder starts empty again.
    pub fn finish(&mut self) -> Result<(RecordBatch, Option<RecordBatch>), ArrowError> {
        let arrays: Vec<ArrayRef> = self.columns.iter_mut().map(ColumnBuilder::finish).collect();
        self.rows = 0;
        let rows = RecordBatch::try_new(self.schema.clone(), arrays)?;
        let keys = match &mut self.keys {
            Some(keys) => {
                let mut arrays: Vec<ArrayRef> = vec![
                    Arc::new(keys.ordinal.finish()),
                    Arc::new(keys.record_no.finish()),
                    Arc::new(keys.line.finish()),
                ];
                arrays.extend(keys.values.iter_mut().map(ColumnBuilder::finish));
                Some(RecordBatch::try_new(keys.schema.clone(), arrays)?)
            }
            None => None,
        };
        Ok((rows, keys))
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
            ColumnType::TimestampTz => {
                Self::Timestamp(TimestampMicrosecondBuilder::with_capacity(capacity).with_timezone("UTC"))
            }
            ColumnType::Time => Self::Time(Time64MicrosecondBuilder::with_capacity(capacity)),
        })
    }

    /// Appends one value. A cell of the wrong kind cannot come out of validation; it is stored as
    /// NULL rather than trusted.
    /// Appends `cell`; a text cell's value is read from `record` only here, so other columns
    /// do not pay for finding their text (a UTF-8 check per field, 4.5% of an import).
    fn push(&mut self, cell: Cell, record: &Record<'_>, source: &FieldSource) {
        match (self, cell) {
            (Self::Boolean(builder), Cell::Bool(value)) => builder.append_value(value),
            (Self::Int32(builder), Cell::Int(value)) => builder.append_option(i32::try_from(value).ok()),
            (Self::Int64(builder), Cell::Int(value)) => builder.append_value(value),
            (Self::Float64(builder), Cell::Float(value)) => builder.append_value(value),
            (Self::Decimal(builder), Cell::Decimal(value)) => builder.append_value(value),
            (Self::Utf8(builder), Cell::Text) => builder.append_value(source.text(record).unwrap_or_default()),
            (Self::Date(builder), Cell::Date(value)) => builder.append_value(value),
            (Self::Timestamp(builder), Cell::Timestamp(value)) => builder.append_value(value),
            (Self::Time(builder), Cell::Time(value)) => builder.append_value(value),
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
            Self::Time(builder) => builder.append_null(),
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
            Self::Time(builder) => Arc::new(builder.finish()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::plan::import_plan::Rules;
    use crate::import::read::record_reader::{Dialect, RecordReader};
    use duckdb::arrow::array::{Array, Int64Array, StringArray};

    #[test]
    fn builds_typed_columns_with_nulls() {
        let plans = vec![
            ColumnPlan {
                name: "id".into(),
                column_type: ColumnType::BigInt,
                source: FieldSource::Field(1),
                rules: Rules::default(),
                format: Default::default(),
            },
            ColumnPlan {
                name: "name".into(),
                column_type: ColumnType::Varchar,
                source: FieldSource::Field(0),
                rules: Rules::default(),
                format: Default::default(),
            },
        ];
        let mut builder = BatchBuilder::new(&plans, 4, &[0]).unwrap();
        let mut reader = RecordReader::new(&b"ann,1\nbob,\n"[..], Dialect::default());
        builder.push(&reader.next_record().unwrap().unwrap(), &[Cell::Int(1), Cell::Text], 1);
        builder.push(&reader.next_record().unwrap().unwrap(), &[Cell::Null, Cell::Text], 2);
        let (batch, keys) = builder.finish().unwrap();
        assert_eq!(batch.num_rows(), 2);
        // The keys of the unique check: ordinal, record number, line, then the value.
        let keys = keys.unwrap();
        let ordinals = keys.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!((ordinals.value(0), ordinals.value(1)), (0, 1));
        let lines = keys.column(2).as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!((lines.value(0), lines.value(1)), (1, 2));
        let key_values = keys.column(3).as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(key_values.value(0), 1);
        assert!(key_values.is_null(1));
        let ids = batch.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(ids.value(0), 1);
        assert!(ids.is_null(1));
        let names = batch.column(1).as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(names.value(1), "bob");
        assert!(builder.is_empty());
    }
}
