//! The export's output files: each is written under a hidden temporary name in the target folder
//! and renamed only when the whole export has succeeded, so a cancelled or failed export never
//! leaves a file that looks whole. The temporary names carry the job id, so the files of a job
//! that died with its process can be found and removed later.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// The temporary name of `final_path` while job `job_id` writes it.
pub fn part_path(final_path: &Path, job_id: i64) -> PathBuf {
    let name = final_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    final_path.with_file_name(format!(".{name}.sluice-{job_id}.part"))
}

/// Removes the temporary files job `job_id` left in `dir`; returns how many.
pub fn remove_parts_of_job(dir: &Path, job_id: i64) -> usize {
    let suffix = format!(".sluice-{job_id}.part");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(&suffix))
        .filter(|entry| remove_path(&entry.path()).is_ok())
        .count()
}

/// Removes a file, or a folder with everything in it (a partitioned export's temporary folder).
fn remove_path(path: &Path) -> io::Result<()> {
    if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
}

/// Names the output file(s): `out` itself, or `stem-00001.ext`, `stem-00002.ext`, ... for chunks.
#[derive(Clone, Debug)]
pub struct OutputNames {
    out: PathBuf,
    chunked: bool,
    extension: &'static str,
}

impl OutputNames {
    pub fn new(out: &Path, chunked: bool, gzip: bool) -> Self {
        Self::with_extension(out, chunked, if gzip { ".csv.gz" } else { ".csv" })
    }

    pub fn with_extension(out: &Path, chunked: bool, extension: &'static str) -> Self {
        Self {
            out: out.to_path_buf(),
            chunked,
            extension,
        }
    }

    /// The final path of file number `index` (0-based).
    pub fn path(&self, index: usize) -> PathBuf {
        if !self.chunked {
            return self.out.clone();
        }
        let name = self
            .out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = [".csv.gz", ".csv", ".gz", ".txt", ".tsv", ".xlsx", ".parquet"]
            .iter()
            .find_map(|ext| name.strip_suffix(ext))
            .unwrap_or(&name)
            .to_string();
        self.out
            .with_file_name(format!("{stem}-{:05}{}", index + 1, self.extension))
    }
}

/// The files of one export, removed unless [`PartFiles::commit`] renames them into place.
pub struct PartFiles {
    job_id: i64,
    /// (temporary path, final path) of every file started.
    files: Vec<(PathBuf, PathBuf)>,
    committed: bool,
}

impl PartFiles {
    pub fn new(job_id: i64) -> Self {
        Self {
            job_id,
            files: Vec::new(),
            committed: false,
        }
    }

    /// Creates the temporary file for `final_path`.
    pub fn create(&mut self, final_path: PathBuf) -> io::Result<File> {
        let part = part_path(&final_path, self.job_id);
        let file = File::create(&part)?;
        self.files.push((part, final_path));
        Ok(file)
    }

    /// Creates the temporary folder for `final_path`, a folder the export fills.
    pub fn create_dir(&mut self, final_path: PathBuf) -> io::Result<()> {
        let part = part_path(&final_path, self.job_id);
        std::fs::create_dir(&part)?;
        self.files.push((part, final_path));
        Ok(())
    }

    /// Renames every file into place and returns the final paths.
    pub fn commit(mut self) -> io::Result<Vec<PathBuf>> {
        for (part, final_path) in &self.files {
            // A folder replaces only an empty folder (checked before the export started).
            if part.is_dir() && final_path.is_dir() {
                std::fs::remove_dir(final_path)?;
            }
            std::fs::rename(part, final_path)?;
        }
        self.committed = true;
        Ok(self.files.iter().map(|(_, final_path)| final_path.clone()).collect())
    }
}

impl Drop for PartFiles {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        // Only temporary files are removed: a final path may hold a file the user already had.
        for (part, _) in &self.files {
            let _ = remove_path(part);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_names_keep_the_stem_and_number_from_one() {
        let names = OutputNames::new(Path::new("/x/people.csv"), true, false);
        assert_eq!(names.path(0), Path::new("/x/people-00001.csv"));
        let names = OutputNames::new(Path::new("/x/people.csv.gz"), true, true);
        assert_eq!(names.path(11), Path::new("/x/people-00012.csv.gz"));
        let single = OutputNames::new(Path::new("/x/out.csv"), false, false);
        assert_eq!(single.path(0), Path::new("/x/out.csv"));
    }

    #[test]
    fn files_appear_only_on_commit_and_vanish_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let final_path = dir.path().join("a.csv");
        {
            let mut parts = PartFiles::new(7);
            parts.create(final_path.clone()).unwrap();
            assert!(!final_path.exists());
            assert!(part_path(&final_path, 7).exists());
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let mut parts = PartFiles::new(8);
        parts.create(final_path.clone()).unwrap();
        assert_eq!(parts.commit().unwrap(), std::slice::from_ref(&final_path));
        assert!(final_path.exists());
    }

    #[test]
    fn leftovers_of_a_dead_job_are_found_by_its_id() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(part_path(&dir.path().join("a.csv"), 3), b"x").unwrap();
        std::fs::write(part_path(&dir.path().join("b.csv"), 4), b"x").unwrap();
        assert_eq!(remove_parts_of_job(dir.path(), 3), 1);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
