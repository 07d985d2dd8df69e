//! Recipes: the rules a person fixed one extract's failed rows with, kept under a name so the
//! next extract is fixed the same way as it is read. Each rule runs on a record's fields before
//! validation; the rows a rule changed are counted per rule, and a rule that changed nothing is
//! reported, not refused: tomorrow's extract may simply not have that fault.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::import::plan::import_plan::ImportPlan;
use crate::import::read::record::{Record, quoted_after_edit};
use crate::import::write::fix_rules::{CompiledRules, FixRule, RuleError};
use crate::store::{Store, StoreError};

/// Named rules, applied in order.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Recipe {
    /// The name it is kept under.
    pub name: String,
    /// The rules, in the order they run.
    pub rules: Vec<FixRule>,
}

/// Why a recipe cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RecipeError {
    /// The file is not a recipe.
    #[error("{path} is not a recipe: {reason}")]
    NotARecipe {
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No recipe has the name, and no file has it as its path.
    #[error("there is no recipe named '{0}' (see sluice recipes), and no file of that name")]
    NoSuchRecipe(String),
    /// A rule of the recipe cannot run.
    #[error("recipe '{recipe}': {source}")]
    Rule {
        /// The recipe's name.
        recipe: String,
        /// Why the rule cannot run.
        source: RuleError,
    },
    /// A recipe file could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Recipe {
    /// A recipe read from the JSON a recipe file holds; `path` names it in an error.
    pub fn from_json(text: &str, path: &str) -> Result<Self, RecipeError> {
        serde_json::from_str(text).map_err(|error| RecipeError::NotARecipe {
            path: path.to_string(),
            reason: error.to_string(),
        })
    }

    /// The recipe as a recipe file holds it.
    pub fn to_json(&self) -> String {
        // Names, strings and numbers only: nothing can fail to serialize.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The recipe `name_or_path` names: a recipe file when there is a file of that path,
    /// otherwise the recipe stored under that name.
    pub fn find(store: &Store, name_or_path: &str) -> Result<Self, RecipeError> {
        let path = Path::new(name_or_path);
        if path.is_file() {
            return Self::from_file(path);
        }
        Self::stored(store, name_or_path)?.ok_or_else(|| RecipeError::NoSuchRecipe(name_or_path.to_string()))
    }

    /// The recipe a recipe file holds.
    pub fn from_file(path: &Path) -> Result<Self, RecipeError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| RecipeError::File {
            path: shown.clone(),
            source,
        })?;
        Self::from_json(&text, &shown)
    }

    /// The recipe stored as `name`, when there is one.
    pub fn stored(store: &Store, name: &str) -> Result<Option<Self>, RecipeError> {
        store
            .recipe_rules(name)?
            .map(|rules| {
                let rules = serde_json::from_str(&rules).map_err(|error| RecipeError::NotARecipe {
                    path: format!("the stored recipe '{name}'"),
                    reason: error.to_string(),
                })?;
                Ok(Self {
                    name: name.to_string(),
                    rules,
                })
            })
            .transpose()
    }

    /// Every stored recipe, by name; one that cannot be read is an error.
    pub fn all_stored(store: &Store) -> Result<Vec<Self>, RecipeError> {
        store
            .recipes()?
            .into_iter()
            .map(|(name, rules)| {
                let rules = serde_json::from_str(&rules).map_err(|error| RecipeError::NotARecipe {
                    path: format!("the stored recipe '{name}'"),
                    reason: error.to_string(),
                })?;
                Ok(Self { name, rules })
            })
            .collect()
    }

    /// Adds `rule` to the end of the recipe stored as `name` (a new one when there is none) and
    /// returns the recipe as stored.
    pub fn add_rule(store: &Store, name: &str, rule: FixRule) -> Result<Self, RecipeError> {
        let mut recipe = Self::stored(store, name)?.unwrap_or_else(|| Self {
            name: name.to_string(),
            rules: Vec::new(),
        });
        recipe.rules.push(rule);
        recipe.save(store)?;
        Ok(recipe)
    }

    /// Stores the recipe under its name, in place of any of that name.
    pub fn save(&self, store: &Store) -> Result<(), RecipeError> {
        let rules = serde_json::to_string(&self.rules).unwrap_or_default();
        store.save_recipe(&self.name, &rules)?;
        Ok(())
    }

    /// Writes the recipe to a recipe file at `path`.
    pub fn write_to(&self, path: &Path) -> Result<(), RecipeError> {
        std::fs::write(path, self.to_json()).map_err(|source| RecipeError::File {
            path: path.display().to_string(),
            source,
        })
    }

    /// Each rule's label, in order, as the summary counts it.
    pub fn labels(&self) -> Vec<String> {
        self.rules.iter().map(FixRule::describe).collect()
    }
}

/// The rows each rule of a recipe changed, counted over every file of an import.
#[derive(Clone, Debug)]
pub(in crate::import) struct RuleCounts(Arc<[AtomicU64]>);

impl RuleCounts {
    pub(in crate::import) fn new(rules: usize) -> Self {
        Self((0..rules).map(|_| AtomicU64::new(0)).collect())
    }

    /// Each rule's label with the rows it changed, as the summary gives them.
    pub(in crate::import) fn by_label(&self, recipe: &Recipe) -> BTreeMap<String, u64> {
        recipe
            .labels()
            .into_iter()
            .zip(self.0.iter())
            .map(|(label, count)| (label, count.load(Ordering::Relaxed)))
            .collect()
    }
}

/// A recipe as the parser runs it on the records of one file.
pub(in crate::import) struct RecipeRun {
    /// One per rule, in order; `None` for a rule whose column this file does not have.
    rules: Vec<Option<CompiledRules>>,
    counts: RuleCounts,
}

impl RecipeRun {
    /// `recipe` resolved against a file's plan (its columns, delimiter and formats), counting
    /// into `counts`. A
    /// rule on a column the file lacks changes nothing here; a pattern that does not compile is
    /// refused before anything is read.
    pub(in crate::import) fn new(recipe: &Recipe, plan: &ImportPlan, counts: RuleCounts) -> Result<Self, RecipeError> {
        let (columns, delimiter) = (&plan.layout.columns, plan.layout.dialect.delimiter);
        let rules = recipe
            .rules
            .iter()
            .map(
                |rule| match CompiledRules::new(std::slice::from_ref(rule), columns, delimiter) {
                    Ok(compiled) => Ok(Some(
                        compiled
                            .reading_into(plan)
                            .with_trailing_fields(plan.layout.trailing_fields()),
                    )),
                    Err(RuleError::NoSuchColumn { .. }) => Ok(None),
                    Err(source) => Err(RecipeError::Rule {
                        recipe: recipe.name.clone(),
                        source,
                    }),
                },
            )
            .collect::<Result<_, _>>()?;
        Ok(Self { rules, counts })
    }

    /// `record`'s fields with every rule applied, and which of them are quoted, when a rule
    /// changed any; `None` leaves the record as it was read.
    pub(in crate::import) fn fix(&self, record: &Record<'_>) -> Option<(Vec<String>, Vec<bool>)> {
        let read: Vec<String> = record
            .fields()
            .map(|field| String::from_utf8_lossy(field).into_owned())
            .collect();
        let mut fields = read.clone();
        let mut changed = false;
        for (rule, count) in self.rules.iter().zip(self.counts.0.iter()) {
            let Some(rule) = rule else {
                continue;
            };
            let after = rule.apply(&fields);
            if after != fields {
                count.fetch_add(1, Ordering::Relaxed);
                fields = after;
                changed = true;
            }
        }
        if !changed {
            return None;
        }
        let mut quoted = Vec::new();
        record.quoted_fields(&mut quoted);
        let quoted = quoted_after_edit(&read, &quoted, &fields);
        Some((fields, quoted))
    }
}
