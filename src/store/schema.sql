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
CREATE TABLE IF NOT EXISTS sluice.failed_rows (
    job_id       BIGINT NOT NULL,
    record_no    BIGINT NOT NULL,
    line         BIGINT NOT NULL,
    byte_offset  BIGINT NOT NULL,
    raw          VARCHAR NOT NULL,
    raw_bytes    BLOB,
    fields       VARCHAR NOT NULL
);
-- Records an import skipped above the header (added after the first release).
ALTER TABLE sluice.jobs ADD COLUMN IF NOT EXISTS rows_skipped BIGINT DEFAULT 0;
-- How many fields each failed row has, so a report can size its columns without parsing every
-- row's fields (added after the first release: rows stored before it have NULL here).
ALTER TABLE sluice.failed_rows ADD COLUMN IF NOT EXISTS field_count INTEGER;
-- The file each failed row came from, for imports of several files (added after the first
-- release: rows stored before it have NULL here).
ALTER TABLE sluice.failed_rows ADD COLUMN IF NOT EXISTS file VARCHAR;
CREATE TABLE IF NOT EXISTS sluice.failed_row_problems (
    job_id       BIGINT NOT NULL,
    record_no    BIGINT NOT NULL,
    field_index  INTEGER,
    column_name  VARCHAR,
    kind         VARCHAR NOT NULL,
    message      VARCHAR NOT NULL
);
-- The first lines each import skipped (above the header, comments, blank lines), so a job can
-- show what it left out; all of them are counted in sluice.jobs.rows_skipped.
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
-- The value of the field each problem is about, so failed rows group by what is wrong with them
-- (added with groups: problems stored before it have NULL here).
ALTER TABLE sluice.failed_row_problems ADD COLUMN IF NOT EXISTS value VARCHAR;
-- The undo job that undid a fix, when one did (added with undo).
ALTER TABLE sluice.jobs ADD COLUMN IF NOT EXISTS undone_by BIGINT;
-- The failed rows each fix took out of the failed set, as they were, with their problems, so an
-- undo puts them back (see store/fix_undo.rs; the rows a fix wrote are kept beside, in a table of
-- the target's shape per fix).
CREATE TABLE IF NOT EXISTS sluice.fix_undo_rows (
    fix_job_id   BIGINT NOT NULL,
    job_id       BIGINT NOT NULL,
    record_no    BIGINT NOT NULL,
    line         BIGINT NOT NULL,
    byte_offset  BIGINT NOT NULL,
    raw          VARCHAR NOT NULL,
    raw_bytes    BLOB,
    fields       VARCHAR NOT NULL,
    field_count  INTEGER,
    file         VARCHAR
);
CREATE TABLE IF NOT EXISTS sluice.fix_undo_problems (
    fix_job_id   BIGINT NOT NULL,
    job_id       BIGINT NOT NULL,
    record_no    BIGINT NOT NULL,
    field_index  INTEGER,
    column_name  VARCHAR,
    kind         VARCHAR NOT NULL,
    message      VARCHAR NOT NULL,
    value        VARCHAR
);
-- Fix rules kept under a name, to run on the next extract's records before validation (added
-- with recipes). `rules` is the rules as JSON, which the engine reads.
CREATE TABLE IF NOT EXISTS sluice.recipes (
    name           VARCHAR NOT NULL,
    rules          VARCHAR NOT NULL,
    updated_at_ms  BIGINT NOT NULL
);
