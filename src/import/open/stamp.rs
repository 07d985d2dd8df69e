//! Whether an input file changed while it was imported. A file truncated, appended to, replaced
//! or deleted half-way through gives rows from two versions of it; the import then fails rather
//! than commit them, and says which file changed and how. The rows read until then are counted
//! as always, so the job's figures say how far it got.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// What a file was when its import began.
#[derive(Clone, Debug)]
pub struct FileStamp {
    path: PathBuf,
    len: u64,
    modified: Option<SystemTime>,
}

impl FileStamp {
    /// The file as it is now; `None` when it cannot be read (its import reports why).
    pub fn take(path: &Path) -> Option<Self> {
        let metadata = std::fs::metadata(path).ok()?;
        Some(Self {
            path: path.to_path_buf(),
            len: metadata.len(),
            modified: metadata.modified().ok(),
        })
    }

    /// How the file differs from this stamp now, in words; `None` when it does not.
    pub fn change(&self) -> Option<String> {
        let Ok(metadata) = std::fs::metadata(&self.path) else {
            return Some("it was deleted or moved".to_string());
        };
        let len = metadata.len();
        if len != self.len {
            let how = if len < self.len { "cut short" } else { "added to" };
            return Some(format!(
                "it was {how}: {} bytes when the import began, {len} later",
                self.len
            ));
        }
        if metadata.modified().ok() != self.modified {
            return Some("it was rewritten (its modification time changed)".to_string());
        }
        None
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_cut_short_added_to_or_deleted_is_seen_to_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        std::fs::write(&path, "id\n1\n2\n").unwrap();
        let stamp = FileStamp::take(&path).unwrap();
        assert_eq!(stamp.change(), None);
        std::fs::write(&path, "id\n1\n").unwrap();
        assert!(stamp.change().unwrap().contains("cut short"));
        std::fs::write(&path, "id\n1\n2\n3\n").unwrap();
        assert!(stamp.change().unwrap().contains("added to"));
        std::fs::remove_file(&path).unwrap();
        assert!(stamp.change().unwrap().contains("deleted"));
    }
}
