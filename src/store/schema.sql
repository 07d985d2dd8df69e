-- Sluice's own tables. They live in the `sluice` schema so the user's tables in `main` stay theirs.
-- Times are milliseconds since the Unix epoch.
CREATE SCHEMA IF NOT EXISTS sluice;
CREATE TABLE IF NOT EXISTS sluice.jobs (
    job_id          BIGINT NOT NULL,
    kind            VARCHAR NOT NULL,
    status          VARCHAR NOT NULL,
    source          VARCHAR,
    target          VARCHAR,
    spec            VARCHAR,
    source_columns  VARCHAR,
    rows_read       BIGINT NOT NULL DEFAULT 0,
    rows_imported   BIGINT NOT NULL DEFAULT 0,
    rows_failed     BIGINT NOT NULL DEFAULT 0,
    rows_written    BIGINT NOT NULL DEFAULT 0,
    bytes_read      BIGINT NOT NULL DEFAULT 0,
    bytes_total     BIGINT,
    created_at_ms   BIGINT NOT NULL,
    started_at_ms   BIGINT,
    finished_at_ms  BIGINT,
    peak_rss_bytes  BIGINT,
    outputs         VARCHAR,
    error           VARCHAR
);
-- Records an import skipped above the header (added after the first release).
ALTER TABLE sluice.jobs ADD COLUMN IF NOT EXISTS rows_skipped BIGINT DEFAULT 0;
-- Every failed row an import set aside, and those a fix or retry took up since (`taken_by`, the
-- fix's job) or set aside again (`added_by`): a fix moves rows by marking them, so its undo is
-- two statements, not a copy of every row. `sluice.failed_rows` (a view, below) is the failed
-- set as it stands. Older databases had the failed set in a table of that name: it is renamed
-- to this one when the database opens (store/migrate.rs).
CREATE TABLE IF NOT EXISTS sluice.failed_row_store (
    job_id       BIGINT NOT NULL,
    record_no    BIGINT NOT NULL,
    line         BIGINT NOT NULL,
    byte_offset  BIGINT NOT NULL,
    raw          VARCHAR NOT NULL,
    raw_bytes    BLOB,
    fields       VARCHAR NOT NULL
);
-- How many fields each failed row has, so a report can size its columns without parsing every
-- row's fields (added after the first release: rows stored before it have NULL here).
ALTER TABLE sluice.failed_row_store ADD COLUMN IF NOT EXISTS field_count INTEGER;
-- The file each failed row came from, for imports of several files (added after the first
-- release: rows stored before it have NULL here).
ALTER TABLE sluice.failed_row_store ADD COLUMN IF NOT EXISTS file VARCHAR;
ALTER TABLE sluice.failed_row_store ADD COLUMN IF NOT EXISTS taken_by BIGINT;
ALTER TABLE sluice.failed_row_store ADD COLUMN IF NOT EXISTS added_by BIGINT;
CREATE TABLE IF NOT EXISTS sluice.failed_problem_store (
    job_id       BIGINT NOT NULL,
    record_no    BIGINT NOT NULL,
    field_index  INTEGER,
    column_name  VARCHAR,
    kind         VARCHAR NOT NULL,
    message      VARCHAR NOT NULL
);
-- The value of the field each problem is about, so failed rows group by what is wrong with them
-- (added with groups: problems stored before it have NULL here).
ALTER TABLE sluice.failed_problem_store ADD COLUMN IF NOT EXISTS value VARCHAR;
ALTER TABLE sluice.failed_problem_store ADD COLUMN IF NOT EXISTS taken_by BIGINT;
ALTER TABLE sluice.failed_problem_store ADD COLUMN IF NOT EXISTS added_by BIGINT;
CREATE VIEW IF NOT EXISTS sluice.failed_rows AS
    SELECT job_id, record_no, line, byte_offset, raw, raw_bytes, fields, field_count, file
    FROM sluice.failed_row_store WHERE taken_by IS NULL;
CREATE VIEW IF NOT EXISTS sluice.failed_row_problems AS
    SELECT job_id, record_no, field_index, column_name, kind, message, value
    FROM sluice.failed_problem_store WHERE taken_by IS NULL;
CREATE TABLE IF NOT EXISTS sluice.skipped_lines (
    job_id  BIGINT NOT NULL,
    line    BIGINT NOT NULL,
    reason  VARCHAR NOT NULL,
    raw     VARCHAR NOT NULL
);
-- The file of each skipped line (added with imports of several files).
ALTER TABLE sluice.skipped_lines ADD COLUMN IF NOT EXISTS file VARCHAR;
-- Of the rows an upsert imported, those that replaced a stored row (added with upserts).
ALTER TABLE sluice.jobs ADD COLUMN IF NOT EXISTS rows_updated BIGINT DEFAULT 0;
-- How an import read each of its files, so a retry reads its failed rows the same way (added
-- with stored layouts).
ALTER TABLE sluice.jobs ADD COLUMN IF NOT EXISTS file_layouts VARCHAR;
-- The undo job that undid a fix, when one did (added with undo).
ALTER TABLE sluice.jobs ADD COLUMN IF NOT EXISTS undone_by BIGINT;
-- Fix rules kept under a name, to run on the next extract's records before validation (added
-- with recipes). `rules` is the rules as JSON, which the engine reads.
CREATE TABLE IF NOT EXISTS sluice.recipes (
    name           VARCHAR NOT NULL,
    rules          VARCHAR NOT NULL,
    updated_at_ms  BIGINT NOT NULL
);
