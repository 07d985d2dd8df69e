//! Inputs for the fuzzer: seed files, and mutations of them that aim at what breaks readers of
//! delimited text (quotes, delimiters and line ends moved about, bytes that are not UTF-8,
//! truncation, repeated and spliced pieces).

use std::path::{Path, PathBuf};

/// Bytes the mutations insert most: the ones with a meaning to a CSV reader or a decoder.
const INTERESTING: &[u8] = b"\",;\t|\r\n\\'#= \x00\xff\xfe\xef\xbb\xbf\xc3\xa9\x80";
/// Inputs are cut to this size so that one run stays short.
const MAX_INPUT: usize = 64 * 1024;

/// Every file under the given paths (recursively), as seeds; plus a few written here so that an
/// empty corpus still fuzzes.
pub fn load_seeds(paths: &[PathBuf]) -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = vec![
        b"a,b,c\n1,2,3\n".to_vec(),
        b"id;name;amount\n1;\"x;y\";1,5\n2;\"q\"\"q\";-3\n".to_vec(),
        b"\xef\xbb\xbfdate\tvalue\n15/03/2024\t1.234,5\n\t\n".to_vec(),
    ];
    let mut folders: Vec<PathBuf> = paths.to_vec();
    while let Some(path) = folders.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).into_iter().flatten().flatten() {
                folders.push(entry.path());
            }
        } else if let Ok(bytes) = std::fs::read(&path)
            && !is_documentation(&path)
        {
            seeds.push(bytes.into_iter().take(MAX_INPUT).collect());
        }
    }
    seeds
}

fn is_documentation(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "md")
}

/// A new input from the seeds: one of them, changed one to eight times.
pub fn mutated(seeds: &[Vec<u8>], rng: &mut fastrand::Rng) -> Vec<u8> {
    let mut input = seeds[rng.usize(..seeds.len())].clone();
    for _ in 0..rng.usize(1..=8) {
        mutate_once(&mut input, seeds, rng);
    }
    input.truncate(MAX_INPUT);
    input
}

fn mutate_once(input: &mut Vec<u8>, seeds: &[Vec<u8>], rng: &mut fastrand::Rng) {
    let len = input.len();
    let at = |rng: &mut fastrand::Rng| rng.usize(..=len);
    match rng.u8(..9) {
        // One byte replaced by a meaningful one, or any byte.
        0 if len > 0 => input[rng.usize(..len)] = INTERESTING[rng.usize(..INTERESTING.len())],
        1 if len > 0 => input[rng.usize(..len)] = rng.u8(..),
        // Meaningful bytes inserted.
        2 => {
            let position = at(rng);
            let count = rng.usize(1..=4);
            let bytes: Vec<u8> = (0..count)
                .map(|_| INTERESTING[rng.usize(..INTERESTING.len())])
                .collect();
            input.splice(position..position, bytes);
        }
        // A range removed.
        3 if len > 0 => {
            let start = rng.usize(..len);
            let end = (start + rng.usize(1..=64)).min(len);
            input.drain(start..end);
        }
        // A range repeated, to make long fields, long lines and many rows.
        4 if len > 0 => {
            let start = rng.usize(..len);
            let end = (start + rng.usize(1..=256)).min(len);
            let piece = input[start..end].to_vec();
            let times = rng.usize(1..=16);
            let position = at(rng);
            input.splice(position..position, piece.repeat(times));
        }
        // Cut short, as an interrupted download is.
        5 if len > 0 => input.truncate(rng.usize(..len)),
        // A piece of another seed spliced in.
        6 => {
            let other = &seeds[rng.usize(..seeds.len())];
            if !other.is_empty() {
                let start = rng.usize(..other.len());
                let end = (start + rng.usize(1..=512)).min(other.len());
                let position = at(rng);
                input.splice(position..position, other[start..end].iter().copied());
            }
        }
        // Line ends changed throughout: LF to CRLF, or to lone CR.
        7 => {
            let ending: &[u8] = if rng.bool() { b"\r\n" } else { b"\r" };
            let mut changed = Vec::with_capacity(input.len() + input.len() / 16);
            for &byte in input.iter() {
                if byte == b'\n' {
                    changed.extend_from_slice(ending);
                } else {
                    changed.push(byte);
                }
            }
            *input = changed;
        }
        // Delimiters swapped throughout.
        _ => {
            let (from, to) = [(b',', b';'), (b',', b'\t'), (b';', b','), (b'"', b'\'')][rng.usize(..4)];
            for byte in input.iter_mut() {
                if *byte == from {
                    *byte = to;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_stay_within_the_size_limit_and_change_the_input() {
        let seeds = load_seeds(&[]);
        let mut rng = fastrand::Rng::with_seed(7);
        let mut changed = 0;
        for _ in 0..2_000 {
            let input = mutated(&seeds, &mut rng);
            assert!(input.len() <= MAX_INPUT);
            changed += usize::from(!seeds.contains(&input));
        }
        assert!(changed > 1_500, "{changed}");
    }
}
