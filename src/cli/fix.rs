//! `sluice fix`: one rule over every failed row of a group, previewed over all of them with
//! `--preview`, or applied as one fix job. The command line only builds the rule and the
//! target; the engine applies, checks and words them.

use std::process::ExitCode;

use sluice::engine::{DuckdbDefaults, JobKind, JobTotals};
use sluice::import::{Case, FixRequest, FixRule, Recipe, UndoFixRequest, ValueFormat, preview_fix};
use sluice::progress::{CancelToken, NoProgress};
use sluice::records::ProblemKind;
use sluice::store::{FailedRowFilter, GroupFilter, GroupKey};

use super::DbArgs;

#[derive(clap::Args, Debug)]
pub struct FixArgs {
    /// The import job whose failed rows are fixed (see `sluice jobs`); with `--undo`, the fix
    /// job to undo.
    job_id: i64,
    /// Undo fix job JOB: its rows leave the table and return to the failed rows as they were.
    #[arg(long, conflicts_with_all = ["rule", "preview", "column", "kind", "value", "save_recipe", "date_format", "decimal_comma", "thousands", "null_marker"])]
    undo: bool,
    /// Only rows with a problem in this column; the column the rule changes.
    #[arg(long)]
    column: Option<String>,
    /// Only rows with this kind of problem (as `sluice failed --groups` names it).
    #[arg(long)]
    kind: Option<String>,
    /// Only rows whose value in `--column` is this one (with its problem of `--kind`, by
    /// default `invalid_value`); the value `--set` replaces.
    #[arg(long, requires = "column")]
    value: Option<String>,
    /// Put this value in `--column` (in place of `--value`, or of every value).
    #[arg(long, requires = "column", group = "rule")]
    set: Option<String>,
    /// Replace each match of this regular expression in `--column` with `--with` ($1 for a group).
    #[arg(long, requires_all = ["column", "with"], group = "rule")]
    replace: Option<String>,
    /// What `--replace` puts in place of each match.
    #[arg(long, requires = "replace")]
    with: Option<String>,
    /// Remove the spaces at both ends of `--column`'s value.
    #[arg(long, requires = "column", group = "rule")]
    trim: bool,
    /// Make runs of spaces in `--column`'s value one space, and trim it.
    #[arg(long, requires = "column", group = "rule")]
    collapse_spaces: bool,
    /// Change the case of `--column`'s value: upper, lower or title.
    #[arg(long, requires = "column", group = "rule", value_parser = ["upper", "lower", "title"])]
    case: Option<String>,
    /// Give an empty `--column` this value.
    #[arg(long, requires = "column", group = "rule")]
    default: Option<String>,
    /// Join two neighbouring fields of rows with too many, counted from 1, such as 2,3: an
    /// unquoted delimiter split one value in two.
    #[arg(long, value_name = "A,B", group = "rule")]
    join_fields: Option<String>,
    /// Drop the empty last field of rows with one field too many.
    #[arg(long, group = "rule")]
    drop_empty_last_field: bool,
    /// Give rows with too few fields empty ones up to the header's width.
    #[arg(long, group = "rule")]
    pad_fields: bool,
    /// Read `--column`'s value as a date or timestamp in this format (such as %d.%m.%Y) and
    /// write it as the column reads dates.
    #[arg(long, requires = "column", conflicts_with = "rule", value_name = "FORMAT")]
    date_format: Option<String>,
    /// Read `--column`'s value as a number with a decimal comma.
    #[arg(long, requires = "column", conflicts_with = "rule")]
    decimal_comma: bool,
    /// Read `--column`'s value as a number with this thousands separator (`.`, `,`, `'` or a space).
    #[arg(long, requires = "column", conflicts_with = "rule", value_name = "CHAR")]
    thousands: Option<char>,
    /// Read `--column`'s value MARKER as NULL (repeat for more).
    #[arg(long, requires = "column", conflicts_with = "rule", value_name = "MARKER")]
    null_marker: Vec<String>,
    /// Only say what the rule would do, over every row it targets; change nothing.
    #[arg(long)]
    preview: bool,
    /// Once the rule is applied, add it to recipe NAME, which `sluice import --recipe NAME` runs
    /// on the next extract.
    #[arg(long, value_name = "NAME", conflicts_with = "preview")]
    save_recipe: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    db: DbArgs,
}

pub fn run(args: FixArgs) -> anyhow::Result<ExitCode> {
    if args.undo {
        return undo(&args);
    }
    let rule = rule(&args)?;
    let filter = target(&args, &rule);
    let store = args.db.open()?;
    let cancel = CancelToken::new();
    let rules = [rule];
    if args.preview {
        let preview = preview_fix(&store, args.job_id, &filter, &rules, &cancel)?;
        if args.json {
            println!("{}", serde_json::to_string(&preview)?);
        } else {
            println!("{}", preview.describe());
            for example in &preview.examples {
                let verdict = match example.problems.as_slice() {
                    [] => "passes".to_string(),
                    problems => problems.join("; "),
                };
                println!(
                    "  line {}: {} → {}  ({verdict})",
                    example.line,
                    example.before.join(","),
                    example.after.join(",")
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    // A fix streams its rows a page at a time, as an import does: DuckDB is held to an import's
    // memory unless the user said otherwise.
    let columns = store.job(args.job_id)?.map_or(0, |job| job.source_columns.len());
    DuckdbDefaults::fix(columns, true).apply(
        &store,
        args.db.memory_limit.is_some(),
        args.db.duckdb_threads.is_some(),
    )?;
    let request = FixRequest {
        import_job_id: args.job_id,
        filter,
        rules: rules.to_vec(),
    };
    let summary =
        sluice::engine::run_fix(&store, &request, &mut NoProgress, &cancel).map_err(|failure| failure.error)?;
    let saved = match &args.save_recipe {
        Some(name) => {
            let [rule] = rules;
            Some(Recipe::add_rule(&store, name, rule)?)
        }
        None => None,
    };
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        println!(
            "Fixed {} rows of job {}: {} imported into '{}', {} still failing (job {}).",
            summary.rows_retried,
            args.job_id,
            summary.rows_imported,
            summary.table,
            summary.rows_still_failing,
            summary.job_id
        );
        if let Some(recipe) = saved {
            println!("Recipe '{}' now has {} rules.", recipe.name, recipe.rules.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Undoes fix job `args.job_id` as a job of its own.
fn undo(args: &FixArgs) -> anyhow::Result<ExitCode> {
    let store = args.db.open()?;
    let request = UndoFixRequest {
        fix_job_id: args.job_id,
    };
    let summary = sluice::engine::run_undo_fix(&store, &request, &mut NoProgress, &CancelToken::new())
        .map_err(|failure| failure.error)?;
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        let totals = JobTotals {
            rows_read: summary.rows_removed,
            rows_updated: summary.rows_put_back,
            rows_failed: summary.rows_returned,
            ..JobTotals::default()
        };
        println!(
            "Undid fix job {} of table '{}' (job {}): {}.",
            summary.fix_job_id,
            summary.table,
            summary.job_id,
            totals.describe(JobKind::Undo)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The rule the options ask for.
fn rule(args: &FixArgs) -> anyhow::Result<FixRule> {
    let column = || args.column.clone().unwrap_or_default();
    Ok(if let Some(to) = &args.set {
        FixRule::SetValue {
            column: column(),
            from: args.value.clone(),
            to: to.clone(),
        }
    } else if let Some(pattern) = &args.replace {
        FixRule::Replace {
            column: column(),
            pattern: pattern.clone(),
            with: args.with.clone().unwrap_or_default(),
        }
    } else if args.trim {
        FixRule::Trim { column: column() }
    } else if args.collapse_spaces {
        FixRule::CollapseSpaces { column: column() }
    } else if let Some(case) = &args.case {
        let case = match case.as_str() {
            "upper" => Case::Upper,
            "lower" => Case::Lower,
            _ => Case::Title,
        };
        FixRule::ChangeCase { column: column(), case }
    } else if let Some(value) = &args.default {
        FixRule::DefaultIfEmpty {
            column: column(),
            value: value.clone(),
        }
    } else if let Some(fields) = &args.join_fields {
        FixRule::JoinFields {
            first: first_of_neighbours(fields)?,
            delimiter: None,
        }
    } else if args.date_format.is_some()
        || args.decimal_comma
        || args.thousands.is_some()
        || !args.null_marker.is_empty()
    {
        FixRule::ReadAs {
            column: column(),
            written: ValueFormat {
                format: args.date_format.clone(),
                decimal_separator: args.decimal_comma.then_some(','),
                thousands: args.thousands,
                null_markers: (!args.null_marker.is_empty()).then(|| args.null_marker.clone()),
                ..ValueFormat::default()
            },
        }
    } else if args.drop_empty_last_field {
        FixRule::DropEmptyLastField
    } else if args.pad_fields {
        FixRule::PadFields
    } else {
        anyhow::bail!(
            "say what to do: --set, --replace, --trim, --collapse-spaces, --case, --default, --date-format, \
             --decimal-comma, --thousands, --null-marker, --join-fields, --drop-empty-last-field or --pad-fields"
        )
    })
}

/// The first of two neighbouring fields `A,B`, counted from 1, as a 0-based index.
fn first_of_neighbours(fields: &str) -> anyhow::Result<usize> {
    let numbers: Vec<usize> = fields
        .split(',')
        .map(|number| number.trim().parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|_| anyhow::anyhow!("--join-fields takes two field numbers, such as 2,3"))?;
    match numbers.as_slice() {
        [first, second] if *first >= 1 && *second == first + 1 => Ok(first - 1),
        _ => anyhow::bail!("--join-fields takes two neighbouring field numbers counted from 1, such as 2,3"),
    }
}

/// The failed rows the rule targets: those of the group the options name.
fn target(args: &FixArgs, rule: &FixRule) -> FailedRowFilter {
    let kind = args.kind.clone().or_else(|| rule.problem_kind().map(str::to_string));
    let group = args.value.as_ref().map(|value| {
        Box::new(GroupFilter {
            column: args.column.clone(),
            kind: kind
                .clone()
                .unwrap_or_else(|| ProblemKind::InvalidValue.as_str().into()),
            key: GroupKey::Value(Some(value.clone())),
        })
    });
    FailedRowFilter {
        kind,
        column: args.column.clone(),
        group,
        ..FailedRowFilter::default()
    }
}
