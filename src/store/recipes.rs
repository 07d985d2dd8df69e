//! Recipes as stored: a name and its rules as JSON, which the engine writes and reads
//! (`import/write/recipe.rs`), so the store knows nothing of what a rule is.

use duckdb::{OptionalExt, params};

use super::{StoreError, now_ms};

/// The recipes table, through named methods.
impl super::Store {
    /// Keeps `rules` (JSON) as recipe `name`, in place of any recipe of that name.
    pub fn save_recipe(&self, name: &str, rules: &str) -> Result<(), StoreError> {
        let context = "saving the recipe";
        let conn = self.conn();
        // Both or neither: a failed insert must not lose the recipe it replaces.
        let transaction = super::Transaction::begin(self, context)?;
        conn.execute("DELETE FROM sluice.recipes WHERE name = ?", [name])
            .map_err(StoreError::query(context))?;
        conn.execute(
            "INSERT INTO sluice.recipes (name, rules, updated_at_ms) VALUES (?, ?, ?)",
            params![name, rules, now_ms()],
        )
        .map_err(StoreError::query(context))?;
        transaction.commit(0, context)
    }

    /// The rules (JSON) of recipe `name`, when there is one.
    pub fn recipe_rules(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.conn()
            .query_row("SELECT rules FROM sluice.recipes WHERE name = ?", [name], |row| {
                row.get(0)
            })
            .optional()
            .map_err(StoreError::query("reading the recipe"))
    }

    /// Every recipe's name and rules (JSON), by name.
    pub fn recipes(&self) -> Result<Vec<(String, String)>, StoreError> {
        let context = "listing the recipes";
        let mut statement = self
            .conn()
            .prepare("SELECT name, rules FROM sluice.recipes ORDER BY name")
            .map_err(StoreError::query(context))?;
        let recipes = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(StoreError::query(context))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::query(context))?;
        Ok(recipes)
    }
}
