//! `sluice recipes`: the recipes kept by `sluice fix --save-recipe`, listed, shown as a recipe
//! file, written to one, or read from one into the database.

use std::path::PathBuf;
use std::process::ExitCode;

use sluice::import::Recipe;

use super::DbArgs;

#[derive(clap::Args, Debug)]
pub struct RecipesArgs {
    /// A recipe to show (as the JSON of a recipe file) or write; all are listed without one.
    name: Option<String>,
    /// Write recipe NAME to this file, to share it or to give it to `sluice import --recipe`.
    #[arg(long, requires = "name", value_name = "FILE")]
    write: Option<PathBuf>,
    /// Keep the recipe file FILE in the database, under the name it holds.
    #[arg(long, conflicts_with_all = ["name", "write"], value_name = "FILE")]
    read: Option<PathBuf>,
    /// List the recipes as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    db: DbArgs,
}

pub fn run(args: RecipesArgs) -> anyhow::Result<ExitCode> {
    let store = args.db.open()?;
    if let Some(path) = &args.read {
        let recipe = Recipe::from_file(path)?;
        recipe.save(&store)?;
        println!("Kept recipe '{}' ({} rules).", recipe.name, recipe.rules.len());
        return Ok(ExitCode::SUCCESS);
    }
    let Some(name) = &args.name else {
        let recipes = Recipe::all_stored(&store)?;
        if args.json {
            println!("{}", serde_json::to_string(&recipes)?);
        } else if recipes.is_empty() {
            println!("No recipes yet: sluice fix JOB ... --save-recipe NAME keeps one.");
        }
        for recipe in recipes.iter().filter(|_| !args.json) {
            println!("{}", recipe.name);
            for label in recipe.labels() {
                println!("  {label}");
            }
        }
        return Ok(ExitCode::SUCCESS);
    };
    let recipe =
        Recipe::stored(&store, name)?.ok_or_else(|| sluice::import::RecipeError::NoSuchRecipe(name.clone()))?;
    match &args.write {
        Some(path) => {
            recipe.write_to(path)?;
            println!("Wrote recipe '{}' to {}.", recipe.name, path.display());
        }
        None => println!("{}", recipe.to_json()),
    }
    Ok(ExitCode::SUCCESS)
}
