//! Which files an import reads: the paths a person gave, with folders opened and glob patterns
//! matched. Done before the job is queued (so the job stores, and a retry finds, the very files it
//! read) and again when it starts, for a request that names a folder.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::import::open::input_formats::is_input_name;

/// The files to import, and what a folder held that is not one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inputs {
    /// In the order given; a folder's files and a pattern's matches sorted by name.
    pub files: Vec<PathBuf>,
    /// Files in a given folder that are not tables (a README, a PDF), left out.
    pub ignored: Vec<PathBuf>,
}

/// Why the paths given do not make a list of files to import.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A path given does not exist and is no pattern.
    #[error("{path} does not exist")]
    NotFound {
        /// The path as given.
        path: PathBuf,
    },
    /// A folder given could not be listed.
    #[error("cannot read the folder {path}: {source}")]
    ReadFolder {
        /// The folder.
        path: PathBuf,
        /// The error listing it.
        source: std::io::Error,
    },
    /// A folder given holds no file that is a table by its extension.
    #[error(
        "the folder {path} has no table files to import (CSV, TSV or text, packed or not; workbooks; Parquet; NDJSON)"
    )]
    EmptyFolder {
        /// The folder.
        path: PathBuf,
    },
    /// A path holding `*`, `?` or `[` is not a valid glob pattern.
    #[error("'{pattern}' is not a valid file pattern: {message}")]
    Pattern {
        /// The pattern as given.
        pattern: String,
        /// What the pattern parser found wrong with it.
        message: String,
    },
    /// A pattern matches no file.
    #[error("no file matches '{pattern}'")]
    NoMatch {
        /// The pattern as given.
        pattern: String,
    },
    /// The request names no path.
    #[error("no file to import was given")]
    Nothing,
}

/// Expands `paths`: a file is taken as it is (whatever its name), a folder gives its table files
/// (not those of its subfolders, nor hidden ones), and a path that does not exist but holds `*`,
/// `?` or `[` is matched as a pattern. A file named twice is read once.
pub fn expand_inputs(paths: &[PathBuf]) -> Result<Inputs, InputError> {
    let mut inputs = Inputs::default();
    let mut seen = HashSet::new();
    let mut take = |inputs: &mut Inputs, path: PathBuf| {
        let key = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if seen.insert(key) {
            inputs.files.push(path);
        }
    };
    for path in paths {
        if path.is_dir() {
            let (files, ignored) = folder_files(path)?;
            if files.is_empty() {
                return Err(InputError::EmptyFolder { path: path.clone() });
            }
            inputs.ignored.extend(ignored);
            files.into_iter().for_each(|file| take(&mut inputs, file));
        } else if path.exists() {
            take(&mut inputs, path.clone());
        } else if is_pattern(path) {
            for file in pattern_files(path)? {
                take(&mut inputs, file);
            }
        } else {
            return Err(InputError::NotFound { path: path.clone() });
        }
    }
    if inputs.files.is_empty() {
        return Err(InputError::Nothing);
    }
    Ok(inputs)
}

/// Whether a folder's import takes this file: a table file by its extension, packed or not.
pub fn is_table_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(is_input_name)
}

fn folder_files(folder: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), InputError> {
    let read_error = |source| InputError::ReadFolder {
        path: folder.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    let mut ignored = Vec::new();
    for entry in std::fs::read_dir(folder).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        // A Hive-partitioned folder (`flag=true/`) holds its files a level or more down, and
        // its folders' names are columns (see `parquet`): it is read whole.
        if path.is_dir() && is_partition_folder(&path) {
            let (inner, inner_ignored) = folder_files(&path)?;
            files.extend(inner);
            ignored.extend(inner_ignored);
            continue;
        }
        if !path.is_file() {
            continue;
        }
        if is_table_file(&path) {
            files.push(path);
        } else if !is_hidden(&path) {
            ignored.push(path);
        }
    }
    files.sort();
    ignored.sort();
    Ok((files, ignored))
}

fn is_partition_folder(path: &Path) -> bool {
    !is_hidden(path)
        && path
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.split_once('='))
            .is_some_and(|(name, _)| !name.is_empty())
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.starts_with('.'))
}

fn is_pattern(path: &Path) -> bool {
    path.to_str().is_some_and(|text| text.contains(['*', '?', '[']))
}

fn pattern_files(pattern: &Path) -> Result<Vec<PathBuf>, InputError> {
    let text = pattern.to_string_lossy().into_owned();
    let bad_pattern = |message: String| InputError::Pattern {
        pattern: text.clone(),
        message,
    };
    let mut files: Vec<PathBuf> = glob::glob(&text)
        .map_err(|error| bad_pattern(error.to_string()))?
        .filter_map(Result::ok)
        .filter(|path| path.is_file())
        .collect();
    if files.is_empty() {
        return Err(InputError::NoMatch { pattern: text });
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::write(path, "a\n1\n").unwrap();
    }

    #[test]
    fn a_folder_gives_its_table_files_sorted_and_names_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "b.csv",
            "a.tsv.gz",
            "c.TXT",
            "d.zip",
            ".hidden.csv",
            "notes.pdf",
            "e.csv.zst",
        ] {
            touch(&dir.path().join(name));
        }
        std::fs::create_dir(dir.path().join("sub.csv")).unwrap();
        let inputs = expand_inputs(&[dir.path().to_path_buf()]).unwrap();
        let names: Vec<&str> = inputs
            .files
            .iter()
            .map(|path| path.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(names, ["a.tsv.gz", "b.csv", "c.TXT", "d.zip", "e.csv.zst"]);
        assert_eq!(inputs.ignored, [dir.path().join("notes.pdf")]);
    }

    #[test]
    fn a_partitioned_folder_gives_the_files_of_its_partition_folders_and_no_others() {
        let dir = tempfile::tempdir().unwrap();
        for folder in ["flag=true/day=1", "flag=false", "other", ".hidden=1"] {
            std::fs::create_dir_all(dir.path().join(folder)).unwrap();
        }
        for file in [
            "flag=true/day=1/data_0.parquet",
            "flag=false/data_0.parquet",
            "other/x.csv",
            ".hidden=1/y.csv",
        ] {
            touch(&dir.path().join(file));
        }
        let inputs = expand_inputs(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(
            inputs.files,
            [
                dir.path().join("flag=false/data_0.parquet"),
                dir.path().join("flag=true/day=1/data_0.parquet")
            ]
        );
    }

    #[test]
    fn patterns_match_and_a_file_named_twice_is_read_once() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["part_2.csv", "part_10.csv", "other.csv"] {
            touch(&dir.path().join(name));
        }
        let pattern = dir.path().join("part_*.csv");
        let inputs = expand_inputs(&[dir.path().join("part_2.csv"), pattern.clone()]).unwrap();
        assert_eq!(
            inputs.files,
            [dir.path().join("part_2.csv"), dir.path().join("part_10.csv")]
        );
        assert!(matches!(
            expand_inputs(&[dir.path().join("none_*.csv")]),
            Err(InputError::NoMatch { .. })
        ));
        assert!(matches!(
            expand_inputs(&[dir.path().join("missing.csv")]),
            Err(InputError::NotFound { .. })
        ));
    }

    #[test]
    fn a_folder_without_tables_is_an_error_not_an_empty_import() {
        let dir = tempfile::tempdir().unwrap();
        touch(&dir.path().join("readme.md"));
        assert!(matches!(
            expand_inputs(&[dir.path().to_path_buf()]),
            Err(InputError::EmptyFolder { .. })
        ));
    }
}
