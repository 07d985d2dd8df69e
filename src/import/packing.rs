//! How an input file is packed: plain, gzip, zstd or a zip holding one file. Told by the first
//! bytes, never by the name, so `export.csv` that is really gzip opens, and `data.csv.gz` that
//! was unpacked already opens too. Progress counts the packed bytes read from the disk, which is
//! the only total known before the end.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use zip::{CompressionMethod, ZipArchive};

/// How a file is packed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Packing {
    #[default]
    Plain,
    Gzip,
    Zstd,
    /// A zip archive holding one file, stored or deflated.
    Zip,
}

impl Packing {
    /// The packing its first bytes say.
    pub fn of(head: &[u8]) -> Self {
        match head {
            [0x1f, 0x8b, ..] => Self::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Self::Zstd,
            [b'P', b'K', 0x03, 0x04, ..] => Self::Zip,
            _ => Self::Plain,
        }
    }

    /// Its name for people, `None` for a plain file.
    pub fn name(&self) -> Option<&'static str> {
        match self {
            Self::Plain => None,
            Self::Gzip => Some("gzip"),
            Self::Zstd => Some("zstd"),
            Self::Zip => Some("zip"),
        }
    }
}

/// Why a zip cannot be read as one file's text.
#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    #[error("it is not a zip Sluice can read: {0}")]
    Unreadable(#[from] zip::result::ZipError),
    #[error("it holds no file")]
    Empty,
    #[error(
        "it holds {count} files ({names}); Sluice reads a zip that holds one file: unzip it and import its files one at a time"
    )]
    SeveralFiles { count: usize, names: String },
    #[error("its file {name} is packed with {method}; Sluice reads stored and deflated zip members")]
    UnsupportedMethod { name: String, method: String },
}

/// The one file of a zip archive: where its packed bytes are and how to unpack them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZipMember {
    pub name: String,
    /// Offset of its packed bytes in the archive.
    pub data_start: u64,
    pub packed_len: u64,
    pub deflated: bool,
}

/// Finds the one file in the zip at `path`, leaving out folders and the `__MACOSX` copies of
/// resource forks that macOS adds.
pub fn zip_member(path: &Path) -> Result<ZipMember, ZipError> {
    let file = File::open(path).map_err(zip::result::ZipError::Io)?;
    let mut archive = ZipArchive::new(file)?;
    let mut members = Vec::new();
    for index in 0..archive.len() {
        let entry = archive.by_index_raw(index)?;
        let name = entry.name().map(|name| name.into_owned()).unwrap_or_default();
        if !entry.is_dir() && !name.starts_with("__MACOSX/") {
            members.push((index, name));
        }
    }
    let (index, name) = match members.as_slice() {
        [] => return Err(ZipError::Empty),
        [only] => only.clone(),
        several => {
            let mut names: Vec<&str> = several.iter().take(3).map(|(_, name)| name.as_str()).collect();
            if several.len() > 3 {
                names.push("...");
            }
            return Err(ZipError::SeveralFiles {
                count: several.len(),
                names: names.join(", "),
            });
        }
    };
    let entry = archive.by_index_raw(index)?;
    let method = entry.compression();
    let deflated = match method {
        CompressionMethod::STORE => false,
        CompressionMethod::DEFLATE => true,
        other => {
            return Err(ZipError::UnsupportedMethod {
                name,
                method: format!("{other}"),
            });
        }
    };
    let data_start = entry
        .data_start()
        .ok_or(ZipError::Unreadable(zip::result::ZipError::InvalidArchive(
            "no data offset for its file".into(),
        )))?;
    Ok(ZipMember {
        name,
        data_start,
        packed_len: entry.compressed_size(),
        deflated,
    })
}

/// Reads the first bytes of `file` and puts it back at the start.
pub fn peek_head(file: &mut File) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(4);
    file.by_ref().take(4).read_to_end(&mut head)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_bytes_decide_not_the_name() {
        assert_eq!(Packing::of(b"\x1f\x8b\x08\x00"), Packing::Gzip);
        assert_eq!(Packing::of(b"\x28\xb5\x2f\xfd"), Packing::Zstd);
        assert_eq!(Packing::of(b"PK\x03\x04"), Packing::Zip);
        assert_eq!(
            Packing::of(b"PK,1"),
            Packing::Plain,
            "a CSV whose first field starts PK"
        );
        assert_eq!(Packing::of(b"\x1f"), Packing::Plain, "a file of one byte");
        assert_eq!(Packing::of(b""), Packing::Plain);
    }
}
