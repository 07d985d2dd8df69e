//! Reading an export's rows from DuckDB as Arrow batches on the job's thread while a writer
//! thread turns them into a file: the two overlap instead of taking turns, and the bounded
//! channel between them keeps memory flat whichever is slower.

use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel::{Receiver, bounded};
use duckdb::Connection;
use duckdb::arrow::record_batch::RecordBatch;

use super::{ExportError, Written, database};
use crate::progress::{CancelToken, Progress, ProgressSink};

/// Batches the pulling thread may run ahead of the writer.
const WRITER_QUEUE_BATCHES: usize = 4;
/// Progress is reported after this many DuckDB chunks (2,048 rows each).
const CHUNKS_PER_REPORT: usize = 16;

/// Where the batches go, and how the job follows them.
pub struct Pump<'a> {
    pub conn: &'a Connection,
    pub job_id: i64,
    pub progress: &'a mut dyn ProgressSink,
    pub cancel: &'a CancelToken,
    pub written: &'a mut Written,
    pub report: &'a dyn Fn(&Written) -> Progress,
}

impl Pump<'_> {
    /// Runs `sql` with `params` and hands its batches to `write` on a thread named for the job.
    /// `write` keeps the shared byte count current for progress and returns its own result.
    pub fn run<T: Send>(
        self,
        sql: &str,
        params: &[String],
        thread_name: &str,
        write: impl FnOnce(Receiver<RecordBatch>, &AtomicU64) -> Result<T, ExportError> + Send,
    ) -> Result<T, ExportError> {
        let params: Vec<&dyn duckdb::ToSql> = params.iter().map(|p| p as &dyn duckdb::ToSql).collect();
        let mut statement = self.conn.prepare(sql).map_err(database("preparing the export query"))?;
        let stream = statement
            .stream_arrow(params.as_slice())
            .map_err(database("running the export query"))?;
        // A query of no rows may yield no batch at all; the writer still gets one, empty, so
        // that it knows the columns (a Parquet file of no rows still has them).
        let schema = stream.get_schema();
        let (batches, writer_batches) = bounded::<RecordBatch>(WRITER_QUEUE_BATCHES);
        let bytes_written = AtomicU64::new(0);
        let (progress, written, report, cancel) = (self.progress, self.written, self.report, self.cancel);
        std::thread::scope(|scope| {
            let writer = std::thread::Builder::new()
                .name(format!("{thread_name}-{}", self.job_id))
                .spawn_scoped(scope, || write(writer_batches, &bytes_written))
                .map_err(|error| ExportError::Io {
                    path: "(writer thread)".into(),
                    source: error,
                })?;
            let mut pulled = Ok(());
            let mut sent_any = false;
            for (chunk_number, batch) in stream.enumerate() {
                if cancel.is_cancelled() {
                    pulled = Err(ExportError::Cancelled);
                    break;
                }
                let batch = match batch {
                    Ok(batch) => batch,
                    Err(error) => {
                        pulled = Err(database("reading rows to export")(error));
                        break;
                    }
                };
                let rows = batch.num_rows() as u64;
                // The writer stopped: its error is the one to report.
                if batches.send(batch).is_err() {
                    break;
                }
                sent_any = true;
                written.rows += rows;
                if chunk_number % CHUNKS_PER_REPORT == 0 {
                    written.bytes = bytes_written.load(Ordering::Relaxed);
                    progress.progress(&report(written));
                }
            }
            if !sent_any && pulled.is_ok() {
                // A writer that stopped already has its error to report.
                let _ = batches.send(RecordBatch::new_empty(schema));
            }
            drop(batches);
            let result = writer.join().map_err(|panic| ExportError::Io {
                path: "(writer thread)".into(),
                source: std::io::Error::other(crate::import::panic_message(&panic)),
            })?;
            pulled?;
            let result = result?;
            written.bytes = bytes_written.load(Ordering::Relaxed);
            Ok(result)
        })
    }
}
