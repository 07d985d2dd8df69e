//! Gzip on every core: the text is cut into blocks, each compressed on a pool thread into a gzip
//! member of its own, and the members are written in order. A file of concatenated members is
//! valid gzip (RFC 1952 section 2.2; pigz does the same), and every reader Sluice knows reads it.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, bounded};
use flate2::Compression;
use flate2::write::GzEncoder;

/// Compressor threads, shared by every file of one export.
pub struct GzipPool {
    work: Option<Sender<(u64, Vec<u8>)>>,
    done: Receiver<(u64, io::Result<Vec<u8>>)>,
    threads: Vec<JoinHandle<()>>,
    in_flight_limit: usize,
}

impl GzipPool {
    pub fn new(threads: usize, level: u32) -> io::Result<Self> {
        let threads = threads.max(1);
        let (work, work_receiver) = bounded::<(u64, Vec<u8>)>(threads * 2);
        let (done_sender, done) = bounded(threads * 2);
        let mut handles = Vec::with_capacity(threads);
        for index in 0..threads {
            let work_receiver = work_receiver.clone();
            let done_sender = done_sender.clone();
            let handle = std::thread::Builder::new()
                .name(format!("sluice-gzip-{}", index + 1))
                .spawn(move || {
                    for (sequence, block) in work_receiver.iter() {
                        let compressed = compress_member(&block, level);
                        if done_sender.send((sequence, compressed)).is_err() {
                            break;
                        }
                    }
                })?;
            handles.push(handle);
        }
        Ok(Self {
            work: Some(work),
            done,
            threads: handles,
            in_flight_limit: threads * 2,
        })
    }
}

impl Drop for GzipPool {
    fn drop(&mut self) {
        self.work = None;
        // Unblock workers waiting to hand back results nobody will read.
        while self.done.try_recv().is_ok() {}
        for thread in self.threads.drain(..) {
            while !thread.is_finished() {
                while self.done.try_recv().is_ok() {}
                std::thread::yield_now();
            }
            let _ = thread.join();
        }
    }
}

fn compress_member(block: &[u8], level: u32) -> io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(block.len() / 3 + 64), Compression::new(level));
    encoder.write_all(block)?;
    encoder.finish()
}

/// Writes blocks of one file through the pool, in order, with a bounded number in flight.
pub struct GzipFileWriter<'p, W: Write> {
    pool: &'p GzipPool,
    out: W,
    next_to_send: u64,
    next_to_write: u64,
    finished: BTreeMap<u64, Vec<u8>>,
    bytes_written: u64,
}

impl<'p, W: Write> GzipFileWriter<'p, W> {
    pub fn new(pool: &'p GzipPool, out: W) -> Self {
        Self {
            pool,
            out,
            next_to_send: 0,
            next_to_write: 0,
            finished: BTreeMap::new(),
            bytes_written: 0,
        }
    }

    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    fn in_flight(&self) -> usize {
        (self.next_to_send - self.next_to_write) as usize
    }

    pub fn write_block(&mut self, block: Vec<u8>) -> io::Result<()> {
        while self.in_flight() >= self.pool.in_flight_limit {
            self.receive_one()?;
        }
        let work = self.pool.work.as_ref().ok_or_else(pool_gone)?;
        work.send((self.next_to_send, block)).map_err(|_| pool_gone())?;
        self.next_to_send += 1;
        Ok(())
    }

    fn receive_one(&mut self) -> io::Result<()> {
        let (sequence, compressed) = self.pool.done.recv().map_err(|_| pool_gone())?;
        self.finished.insert(sequence, compressed?);
        while let Some(member) = self.finished.remove(&self.next_to_write) {
            self.out.write_all(&member)?;
            self.bytes_written += member.len() as u64;
            self.next_to_write += 1;
        }
        Ok(())
    }

    /// Waits for every block, writes the rest and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        if self.next_to_send == 0 {
            // A gzip file needs at least one member, even for no text at all.
            self.write_block(Vec::new())?;
        }
        while self.in_flight() > 0 {
            self.receive_one()?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

fn pool_gone() -> io::Error {
    io::Error::other("the gzip threads stopped")
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn members_in_order_decompress_to_the_original() {
        let pool = GzipPool::new(2, 6).unwrap();
        let mut writer = GzipFileWriter::new(&pool, Vec::new());
        let mut original = Vec::new();
        for block in 0..20 {
            let text = format!("block {block}\n").repeat(1000 + block * 37);
            original.extend_from_slice(text.as_bytes());
            writer.write_block(text.into_bytes()).unwrap();
        }
        let compressed = writer.finish().unwrap();
        let mut decoded = Vec::new();
        flate2::read::MultiGzDecoder::new(&compressed[..])
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, original);
    }

    #[test]
    fn an_empty_file_is_still_valid_gzip() {
        let pool = GzipPool::new(1, 6).unwrap();
        let compressed = GzipFileWriter::new(&pool, Vec::new()).finish().unwrap();
        let mut decoded = Vec::new();
        flate2::read::MultiGzDecoder::new(&compressed[..])
            .read_to_end(&mut decoded)
            .unwrap();
        assert!(decoded.is_empty());
    }
}
