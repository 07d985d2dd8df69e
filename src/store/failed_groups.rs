//! A job's failed rows grouped by what is wrong with them: the column, the kind of problem and
//! the value (or its shape, or the row's field count), each group with its exact count.
//!
//! Real extracts fail by the thousand in a few ways, and a person fixes a way, not a row. The
//! groups are counted by DuckDB over the stored problems, so a million failed rows cost the
//! window no memory, and the same group filters the rows it counts ([`GroupFilter`]).

use duckdb::{Connection, params};

use super::StoreError;
use crate::format::thousands;

/// Distinct values of a column's problem of one kind up to which each value is a group of its
/// own; past it the values are grouped by their shape.
pub const VALUES_SHOWN_ALONE: u64 = 20;

/// A value's shape: each digit a `9` and each letter an `a`, everything else kept, so
/// `31.02.2024` and `12.13.2023` are both `99.99.9999`. `{value}` is the SQL of the value.
fn shape_sql(value: &str) -> String {
    format!("regexp_replace(regexp_replace({value}, '[0-9]', '9', 'g'), '\\pL', 'a', 'g')")
}

/// What the rows of a group have in common beyond the column and the kind.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "by", content = "key", rename_all = "snake_case")]
pub enum GroupKey {
    /// The field's value, as stored (`""` for an empty field); `None` for problems stored
    /// before values were kept with them.
    Value(Option<String>),
    /// The shape of the field's value (see [`VALUES_SHOWN_ALONE`]).
    Shape(String),
    /// The row's number of fields: a row with too many or too few.
    Fields(i64),
    /// Nothing more: a problem of the whole row (an unclosed quote, a total line...).
    Row,
}

/// One way a job's rows failed, and how many rows failed that way.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FailedGroup {
    /// The column at fault; `None` for a problem of the whole row.
    pub column: Option<String>,
    /// The kind's stored name (`ProblemKind::as_str`).
    pub kind: String,
    /// What else the rows have in common.
    #[serde(flatten)]
    pub key: GroupKey,
    /// Failed rows in the group; a row with two problems is in two groups.
    pub rows: u64,
}

impl FailedGroup {
    /// The group in words, as both front ends show it: `age · invalid_value · "forty" × 98`.
    /// `header_fields` is the header's width, when the job's files share one.
    pub fn describe(&self, header_fields: Option<usize>) -> String {
        let key = match &self.key {
            GroupKey::Value(Some(value)) => Some(format!("\"{value}\"")),
            GroupKey::Value(None) => None,
            GroupKey::Shape(shape) => Some(format!("shaped {shape}")),
            GroupKey::Fields(fields) => {
                let plural = if *fields == 1 { "" } else { "s" };
                Some(match header_fields {
                    Some(header) => format!("{fields} field{plural} where the header has {header}"),
                    None => format!("{fields} field{plural}"),
                })
            }
            GroupKey::Row => None,
        };
        let parts: Vec<&str> = [self.column.as_deref(), Some(self.kind.as_str()), key.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        format!("{} × {}", parts.join(" · "), thousands(self.rows))
    }

    /// The filter that reads this group's rows.
    pub fn filter(&self) -> GroupFilter {
        GroupFilter {
            column: self.column.clone(),
            kind: self.kind.clone(),
            key: self.key.clone(),
        }
    }
}

/// The rows of one group, as a failed-rows filter narrows to them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GroupFilter {
    /// The column at fault; `None` for a problem of the whole row.
    pub column: Option<String>,
    /// The kind's stored name.
    pub kind: String,
    /// What else the rows have in common.
    #[serde(flatten)]
    pub key: GroupKey,
}

impl GroupFilter {
    /// The SQL condition on a failed row `f` that it has this group's problem; its parameters
    /// come from [`GroupFilter::params`].
    pub(super) fn sql() -> String {
        format!(
            "(EXISTS (SELECT 1 FROM sluice.failed_row_problems g \
             WHERE g.job_id = f.job_id AND g.record_no = f.record_no AND g.kind = ? \
             AND g.column_name IS NOT DISTINCT FROM ? AND CASE ? \
               WHEN 'value' THEN g.value IS NOT DISTINCT FROM ? \
               WHEN 'shape' THEN {} = ? \
               WHEN 'fields' THEN f.field_count = TRY_CAST(? AS BIGINT) \
               ELSE g.field_index IS NULL END))",
            shape_sql("g.value")
        )
    }

    /// The parameters of [`GroupFilter::sql`].
    pub(super) fn params(&self) -> [Option<String>; 6] {
        let (by, key) = match &self.key {
            GroupKey::Value(value) => ("value", value.clone()),
            GroupKey::Shape(shape) => ("shape", Some(shape.clone())),
            GroupKey::Fields(fields) => ("fields", Some(fields.to_string())),
            GroupKey::Row => ("row", None),
        };
        [
            Some(self.kind.clone()),
            self.column.clone(),
            Some(by.to_string()),
            key.clone(),
            key.clone(),
            key,
        ]
    }
}

/// The groups of job `job_id`'s failed rows, most rows first.
pub fn failed_groups(conn: &Connection, job_id: i64) -> Result<Vec<FailedGroup>, StoreError> {
    let context = "grouping failed rows";
    let sql = format!(
        "WITH p AS ( \
           SELECT p.record_no, p.column_name, p.kind, p.value, p.field_index, f.field_count \
           FROM sluice.failed_row_problems p JOIN sluice.failed_rows f \
             ON f.job_id = p.job_id AND f.record_no = p.record_no \
           WHERE p.job_id = ?), \
         spread AS ( \
           SELECT column_name, kind, count(DISTINCT value) AS distinct_values FROM p \
           WHERE field_index IS NOT NULL GROUP BY column_name, kind), \
         keyed AS ( \
           SELECT p.record_no, p.column_name, p.kind, \
             CASE WHEN p.kind IN ('too_many_fields', 'too_few_fields') THEN 'fields' \
                  WHEN p.field_index IS NULL THEN 'row' \
                  WHEN s.distinct_values <= ? THEN 'value' ELSE 'shape' END AS grouped_by, \
             CASE WHEN p.kind IN ('too_many_fields', 'too_few_fields') THEN CAST(p.field_count AS VARCHAR) \
                  WHEN p.field_index IS NULL THEN NULL \
                  WHEN s.distinct_values <= ? THEN p.value ELSE {} END AS group_key \
           FROM p LEFT JOIN spread s \
             ON s.column_name IS NOT DISTINCT FROM p.column_name AND s.kind = p.kind) \
         SELECT column_name, kind, grouped_by, group_key, count(DISTINCT record_no) AS row_count FROM keyed \
         GROUP BY column_name, kind, grouped_by, group_key ORDER BY row_count DESC, kind, column_name, group_key",
        shape_sql("p.value")
    );
    let mut statement = conn.prepare(&sql).map_err(StoreError::query(context))?;
    let shown_alone = VALUES_SHOWN_ALONE as i64;
    let groups = statement
        .query_map(params![job_id, shown_alone, shown_alone], |row| {
            let by: String = row.get(2)?;
            let key: Option<String> = row.get(3)?;
            let key = match by.as_str() {
                "value" => GroupKey::Value(key),
                "shape" => GroupKey::Shape(key.unwrap_or_default()),
                "fields" => GroupKey::Fields(key.and_then(|fields| fields.parse().ok()).unwrap_or_default()),
                _ => GroupKey::Row,
            };
            Ok(FailedGroup {
                column: row.get(0)?,
                kind: row.get(1)?,
                key,
                rows: row.get::<_, i64>(4)?.max(0) as u64,
            })
        })
        .map_err(StoreError::query(context))?
        .collect::<Result<_, _>>()
        .map_err(StoreError::query(context))?;
    Ok(groups)
}
