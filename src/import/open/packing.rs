//! Reading packed inputs: a zip's one member, checked against the archive's own checksum and
//! size, and the first bytes that tell a compression (`input_formats::Compression`). Progress
//! counts the packed bytes read from the disk, which is the only total known before the end.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use zip::{CompressionMethod, ZipArchive};

use crate::import::open::input_formats::Compression;

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
    #[error("its file {name} is protected by a password, which Sluice does not read: unzip it first")]
    Encrypted { name: String },
}

/// The one file of a zip archive: where its packed bytes are and how to unpack them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZipMember {
    pub name: String,
    /// Offset of its packed bytes in the archive.
    pub data_start: u64,
    pub packed_len: u64,
    pub deflated: bool,
    /// What the archive says the unpacked file is, checked when it has been read.
    pub crc32: u32,
    pub unpacked_len: u64,
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
    if entry.encrypted() {
        return Err(ZipError::Encrypted { name });
    }
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
        crc32: entry.crc32(),
        unpacked_len: entry.size(),
    })
}

/// A zip member's unpacked bytes, checked against the archive's checksum and size at the end:
/// the raw member is read past the zip crate's own checks, and a wrong size in the directory
/// would otherwise import the archive's own headers as rows, or cut the file short, unnoticed.
pub struct CheckedMember<R> {
    inner: R,
    crc: flate2::Crc,
    read: u64,
    crc32: u32,
    unpacked_len: u64,
}

impl<R: Read> CheckedMember<R> {
    pub fn new(inner: R, member: &ZipMember) -> Self {
        Self {
            inner,
            crc: flate2::Crc::new(),
            read: 0,
            crc32: member.crc32,
            unpacked_len: member.unpacked_len,
        }
    }
}

impl<R: Read> Read for CheckedMember<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.crc.update(&buf[..read]);
        self.read += read as u64;
        if read == 0 && !buf.is_empty() && (self.read != self.unpacked_len || self.crc.sum() != self.crc32) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the zip's file does not match its checksum or size ({} bytes read, {} expected); the archive is damaged",
                    self.read, self.unpacked_len
                ),
            ));
        }
        Ok(read)
    }
}

/// The packed bytes an import of `path` reads: its one member's in a zip, else the file's size.
pub fn packed_len(path: &Path) -> Option<u64> {
    let mut file = File::open(path).ok()?;
    match Compression::of(&peek_head(&mut file).ok()?) {
        Compression::Zip => zip_member(path).ok().map(|member| member.packed_len),
        _ => file.metadata().ok().map(|metadata| metadata.len()),
    }
}

/// Reads the first bytes of `file` and puts it back at the start.
pub fn peek_head(file: &mut File) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(4);
    file.by_ref().take(4).read_to_end(&mut head)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(head)
}
