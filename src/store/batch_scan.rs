//! Sluice's table function over one Arrow record batch, which the import's writer inserts from.
//!
//! It is duckdb-rs's own Arrow table function (`duckdb::vtab::arrow::ArrowVTab`) with two of
//! its conversions written for what an import hands it. Writing into DuckDB is an import's
//! critical path. In a profile of a 5M-row import duckdb-rs spent 5% of all the CPU copying each
//! string into DuckDB's vector and 1.6% checking it as UTF-8 again (an Arrow string array is
//! valid UTF-8 by its type), before DuckDB copied it once more into the table; and 0.6%
//! converting each decimal through a general routine. Here DuckDB reads text in place from the
//! batch (see [`string_ref`]) and decimals are converted in one pass; every other type goes
//! through duckdb-rs's conversion as before.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard, PoisonError};

use duckdb::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use duckdb::arrow::datatypes::DataType;
use duckdb::core::{DataChunkHandle, LogicalTypeHandle, LogicalTypeId};
use duckdb::ffi;
use duckdb::types::ToSqlOutput;
use duckdb::vtab::arrow::{WritableVector, to_duckdb_logical_type_for_field, write_arrow_array_to_vector};
use duckdb::vtab::{BindInfo, InitInfo, TableFunctionInfo, VTab};
use duckdb::{Connection, ToSql};

type VTabError = Box<dyn std::error::Error>;

/// Batches handed to the table function, by token. A registration is not tied to a connection,
/// so the registry is the process's.
static BATCHES: LazyLock<Mutex<HashMap<u64, RecordBatch>>> = LazyLock::new(|| Mutex::new(HashMap::new()));
static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

fn batches() -> MutexGuard<'static, HashMap<u64, RecordBatch>> {
    BATCHES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A batch readable by the table function while this lives; bound as the function's one
/// parameter.
pub struct BatchRegistration {
    token: u64,
}

impl BatchRegistration {
    pub fn new(batch: RecordBatch) -> Self {
        let token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
        batches().insert(token, batch);
        Self { token }
    }
}

impl Drop for BatchRegistration {
    fn drop(&mut self) {
        // Taken out under the lock, freed after it.
        let removed = batches().remove(&self.token);
        drop(removed);
    }
}

impl ToSql for &BatchRegistration {
    fn to_sql(&self) -> duckdb::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.token))
    }
}

/// Registers the table function as `name` on the connection's database.
pub fn register(conn: &Connection, name: &str) -> duckdb::Result<()> {
    conn.register_table_function::<BatchScan>(name)
}

struct BatchScan;

struct ScanState {
    /// The next row to hand DuckDB.
    offset: AtomicUsize,
    vector_size: usize,
}

impl VTab for BatchScan {
    type BindData = RecordBatch;
    type InitData = ScanState;

    fn bind(bind: &BindInfo) -> Result<Self::BindData, VTabError> {
        let token = bind.get_parameter(0).to_uint64();
        let batch = batches()
            .get(&token)
            .cloned()
            .ok_or_else(|| format!("no batch of rows is registered as {token}"))?;
        for field in batch.schema().fields() {
            bind.add_result_column(field.name(), to_duckdb_logical_type_for_field(field)?);
        }
        Ok(batch)
    }

    fn init(_: &InitInfo) -> Result<Self::InitData, VTabError> {
        // SAFETY: reads a constant of the DuckDB library.
        let vector_size = unsafe { ffi::duckdb_vector_size() } as usize;
        if vector_size == 0 {
            return Err("DuckDB reports a vector size of zero".into());
        }
        Ok(ScanState {
            offset: AtomicUsize::new(0),
            vector_size,
        })
    }

    fn func(func: &TableFunctionInfo<Self>, output: &mut DataChunkHandle) -> Result<(), VTabError> {
        let state = func.get_init_data();
        let batch = func.get_bind_data();
        let offset = state.offset.fetch_add(state.vector_size, Ordering::Relaxed);
        if offset >= batch.num_rows() {
            output.set_len(0);
            return Ok(());
        }
        let rows = batch.slice(offset, (batch.num_rows() - offset).min(state.vector_size));
        if output.num_columns() != rows.num_columns() {
            return Err("the output has another number of columns than the batch".into());
        }
        for (index, column) in rows.columns().iter().enumerate() {
            // SAFETY: `index` is a column of the output chunk, checked above; the vector lives as
            // long as the chunk, which outlives this call.
            let mut vector = unsafe { ffi::duckdb_data_chunk_get_vector(output.get_ptr(), index as u64) };
            write_column(column, &mut vector)?;
        }
        output.set_len(rows.num_rows());
        Ok(())
    }

    fn parameters() -> Option<Vec<LogicalTypeHandle>> {
        Some(vec![LogicalTypeHandle::from(LogicalTypeId::UBigint)])
    }
}

/// Writes one column of at most a vector's rows into DuckDB's vector.
fn write_column(column: &ArrayRef, vector: &mut ffi::duckdb_vector) -> Result<(), VTabError> {
    match column.data_type() {
        DataType::Utf8 => {
            let strings = column.as_string::<i32>();
            if strings.len() > vector.flat_vector().capacity() {
                return Err("more rows than a DuckDB vector holds".into());
            }
            // SAFETY: a VARCHAR vector's data is an array of `duckdb_string_t`, one per row of
            // its capacity, and no more rows than that are written (checked above).
            let slots = unsafe {
                std::slice::from_raw_parts_mut(
                    ffi::duckdb_vector_get_data(*vector).cast::<ffi::duckdb_string_t>(),
                    strings.len(),
                )
            };
            for (slot, text) in slots.iter_mut().zip(strings.iter()) {
                if let Some(text) = text {
                    *slot = string_ref(text)?;
                }
            }
            set_nulls(column, vector);
            Ok(())
        }
        &DataType::Decimal128(precision, _) => {
            let values = column
                .as_primitive::<duckdb::arrow::datatypes::Decimal128Type>()
                .values();
            // DuckDB stores a DECIMAL in the narrowest integer its precision fits.
            match precision {
                0..=4 => fill(vector, values, |value| i16::try_from(value).ok())?,
                5..=9 => fill(vector, values, |value| i32::try_from(value).ok())?,
                10..=18 => fill(vector, values, |value| i64::try_from(value).ok())?,
                _ => fill(vector, values, Some)?,
            }
            set_nulls(column, vector);
            Ok(())
        }
        _ => write_arrow_array_to_vector(column, vector),
    }
}

/// DuckDB's `string_t` for `text`: a string of up to 12 bytes inlined (zero-padded, as DuckDB
/// compares them), a longer one as its length, its first four bytes and a pointer to it. The
/// pointer is into the batch's own buffer, which the function's bind data holds until the
/// statement has ended, and DuckDB copies the text into the table as it inserts it: the same
/// borrowing DuckDB's own Arrow scan does. Copying each string into the vector first
/// (`duckdb_vector_assign_string_element_len`) took 5% of a 5M-row import's CPU, on the
/// writing thread that is its critical path.
fn string_ref(text: &str) -> Result<ffi::duckdb_string_t, VTabError> {
    const INLINED_BYTES: usize = 12;
    let bytes = text.as_bytes();
    let length = u32::try_from(bytes.len()).map_err(|_| "a text longer than 4 GiB")?;
    let value = if bytes.len() <= INLINED_BYTES {
        let mut inlined = [0; INLINED_BYTES];
        for (slot, &byte) in inlined.iter_mut().zip(bytes) {
            *slot = byte as std::os::raw::c_char;
        }
        ffi::duckdb_string_t__bindgen_ty_1 {
            inlined: ffi::duckdb_string_t__bindgen_ty_1__bindgen_ty_2 { length, inlined },
        }
    } else {
        let mut prefix = [0; 4];
        for (slot, &byte) in prefix.iter_mut().zip(bytes) {
            *slot = byte as std::os::raw::c_char;
        }
        ffi::duckdb_string_t__bindgen_ty_1 {
            pointer: ffi::duckdb_string_t__bindgen_ty_1__bindgen_ty_1 {
                length,
                prefix,
                // DuckDB only reads through it.
                ptr: bytes.as_ptr().cast_mut().cast(),
            },
        }
    };
    Ok(ffi::duckdb_string_t { value })
}

/// Writes `values`, each narrowed by `narrow`, into the vector's data.
fn fill<T: Copy>(
    vector: &mut ffi::duckdb_vector,
    values: &[i128],
    narrow: impl Fn(i128) -> Option<T>,
) -> Result<(), VTabError> {
    let mut flat = vector.flat_vector();
    if values.len() > flat.capacity() {
        return Err("more rows than a DuckDB vector holds".into());
    }
    // SAFETY: the vector's data holds `capacity` values of its physical type, which `T` is for
    // the decimal's precision, and no more than that many are taken.
    let slots = unsafe { flat.as_mut_slice_with_len::<T>(values.len()) };
    for (slot, &value) in slots.iter_mut().zip(values) {
        *slot = narrow(value).ok_or_else(|| format!("the decimal {value} does not fit its column's precision"))?;
    }
    Ok(())
}

fn set_nulls(column: &ArrayRef, vector: &mut ffi::duckdb_vector) {
    if column.null_count() == 0 {
        return;
    }
    let mut flat = vector.flat_vector();
    for row in 0..column.len() {
        if column.is_null(row) {
            flat.set_null(row);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use duckdb::arrow::array::{Decimal128Array, Int64Array, StringArray};
    use duckdb::arrow::datatypes::{Field, Schema};

    use super::*;

    #[test]
    fn text_decimals_and_other_types_arrive_as_they_were_nulls_included_across_vectors() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn, "batch_scan_test").unwrap();
        // More rows than one vector, so that each call of the function starts at its own offset.
        let rows = 5000usize;
        let text: StringArray = (0..rows)
            .map(|row| match row % 6 {
                0 => None,
                1 => Some(String::new()),
                2 => Some(format!("a longer text than twelve bytes, ünïcödé {row}")),
                // DuckDB keeps up to twelve bytes in place and points to longer text.
                3 => Some("twelve bytes".to_string()),
                4 => Some("thirteen byte".to_string()),
                _ => Some(format!("{row}")),
            })
            .collect();
        let mut decimals = Vec::new();
        for (precision, scale) in [(4u8, 2i8), (9, 3), (18, 2), (38, 10)] {
            let largest = 10i128.pow(u32::from(precision)) - 1;
            let values: Decimal128Array = (0..rows)
                .map(|row| match row % 5 {
                    0 => None,
                    1 => Some(-largest),
                    2 => Some(largest),
                    _ => Some(row as i128 - 2500),
                })
                .collect::<Decimal128Array>()
                .with_precision_and_scale(precision, scale)
                .unwrap();
            decimals.push((precision, scale, values));
        }
        let numbers: Int64Array = (0..rows).map(|row| (row % 3 != 0).then_some(row as i64 * -7)).collect();
        let mut fields = vec![
            Field::new("text", DataType::Utf8, true),
            Field::new("number", DataType::Int64, true),
        ];
        let mut columns: Vec<ArrayRef> = vec![Arc::new(text.clone()), Arc::new(numbers.clone())];
        for (precision, scale, values) in &decimals {
            fields.push(Field::new(
                format!("d{precision}"),
                DataType::Decimal128(*precision, *scale),
                true,
            ));
            columns.push(Arc::new(values.clone()));
        }
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
        let registration = BatchRegistration::new(batch);
        conn.execute_batch(
            "CREATE TABLE t (text VARCHAR, number BIGINT, d4 DECIMAL(4,2), d9 DECIMAL(9,3), \
             d18 DECIMAL(18,2), d38 DECIMAL(38,10))",
        )
        .unwrap();
        conn.execute("INSERT INTO t SELECT * FROM batch_scan_test(?)", [&registration])
            .unwrap();
        drop(registration);

        let mut statement = conn
            .prepare("SELECT text, number, d4::VARCHAR, d9::VARCHAR, d18::VARCHAR, d38::VARCHAR FROM t")
            .unwrap();
        type ReadRow = (Option<String>, Option<i64>, Vec<Option<String>>);
        let read: Vec<ReadRow> = statement
            .query_map([], |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    (2..6).map(|index| row.get(index)).collect::<Result<_, _>>()?,
                ))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(read.len(), rows);
        // Compared, grouped and sorted by DuckDB as its own text: an inlined string is padded
        // with zeros, a longer one's prefix is its first four bytes.
        let counted = |sql: &str| conn.query_row(sql, [], |row| row.get::<_, i64>(0)).unwrap();
        let sixth = (rows / 6) as i64;
        assert_eq!(counted("SELECT count(*) FROM t WHERE text = 'twelve bytes'"), sixth);
        assert_eq!(counted("SELECT count(*) FROM t WHERE text = 'thirteen byte'"), sixth);
        assert_eq!(counted("SELECT count(DISTINCT text) FROM t WHERE text LIKE 't%'"), 2);
        assert_eq!(
            conn.query_row("SELECT min(text) FROM t WHERE text LIKE 'a longer%'", [], |row| row
                .get::<_, String>(
                0
            ))
            .unwrap(),
            "a longer text than twelve bytes, ünïcödé 1004"
        );
        for (row, (text_read, number_read, decimals_read)) in read.iter().enumerate() {
            assert_eq!(
                text_read.as_deref(),
                (!text.is_null(row)).then(|| text.value(row)),
                "row {row}"
            );
            assert_eq!(
                *number_read,
                (!numbers.is_null(row)).then(|| numbers.value(row)),
                "row {row}"
            );
            for ((_, _, values), read) in decimals.iter().zip(decimals_read) {
                let expected = (!values.is_null(row)).then(|| values.value_as_string(row));
                assert_eq!(read.as_deref(), expected.as_deref(), "row {row}");
            }
        }
    }

    #[test]
    fn a_token_not_registered_is_an_error_not_a_crash() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn, "batch_scan_test").unwrap();
        let error = conn
            .execute_batch("SELECT * FROM batch_scan_test(12345::UBIGINT)")
            .unwrap_err();
        assert!(error.to_string().contains("no batch of rows"), "{error}");
    }
}
