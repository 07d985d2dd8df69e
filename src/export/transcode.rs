//! Turning the UTF-8 text the CSV encoder builds into the bytes of the chosen encoding.
//!
//! Windows-1252 is done with a table of its 128 upper code points (taken from `encoding_rs`, so
//! it is the WHATWG mapping browsers and Excel use) rather than with `encoding_rs`'s encoder,
//! because that one writes a character it cannot map as an HTML entity (`&#322;`), and an export
//! must either refuse such a character, naming its row and column, or write `?` and count it.

use std::sync::OnceLock;

use super::shape::TextEncoding;

/// What a character unknown to the encoding is written as when replacing.
pub const REPLACEMENT: u8 = b'?';

/// The Windows-1252 byte of every character the encoding holds beyond ASCII.
fn windows_1252_upper() -> &'static [(char, u8)] {
    static TABLE: OnceLock<Vec<(char, u8)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table: Vec<(char, u8)> = (0x80..=0xFFu8)
            .filter_map(|byte| {
                let bytes = [byte];
                let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&bytes);
                text.chars().next().map(|character| (character, byte))
            })
            .collect();
        table.sort_unstable();
        table
    })
}

/// The Windows-1252 byte for `character`, if it has one.
pub fn windows_1252_byte(character: char) -> Option<u8> {
    if character.is_ascii() {
        return Some(character as u8);
    }
    let table = windows_1252_upper();
    table
        .binary_search_by_key(&character, |&(c, _)| c)
        .ok()
        .map(|index| table[index].1)
}

/// The first character of `text` the encoding cannot hold; only Windows-1252 lacks any.
pub fn first_unencodable(encoding: TextEncoding, text: &str) -> Option<char> {
    match encoding {
        TextEncoding::Windows1252 if !text.is_ascii() => {
            text.chars().find(|&character| windows_1252_byte(character).is_none())
        }
        _ => None,
    }
}

/// How many characters of `text` the encoding cannot hold.
pub fn count_unencodable(encoding: TextEncoding, text: &str) -> u64 {
    match encoding {
        TextEncoding::Windows1252 if !text.is_ascii() => text
            .chars()
            .filter(|&character| windows_1252_byte(character).is_none())
            .count() as u64,
        _ => 0,
    }
}

/// Converts a block of UTF-8 text (whole records) to the encoding. Characters Windows-1252
/// lacks become [`REPLACEMENT`]; the encoder has refused or counted them already.
pub fn transcode(encoding: TextEncoding, block: Vec<u8>) -> Vec<u8> {
    match encoding {
        TextEncoding::Utf8 | TextEncoding::Utf8Bom => block,
        TextEncoding::Windows1252 if block.is_ascii() => block,
        TextEncoding::Windows1252 => {
            let text = String::from_utf8_lossy(&block);
            text.chars()
                .map(|character| windows_1252_byte(character).unwrap_or(REPLACEMENT))
                .collect()
        }
        TextEncoding::Utf16Le => {
            let text = String::from_utf8_lossy(&block);
            let mut out = Vec::with_capacity(block.len() * 2);
            for unit in text.encode_utf16() {
                out.extend_from_slice(&unit.to_le_bytes());
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1252_holds_the_euro_sign_and_western_letters_but_not_polish_ones() {
        assert_eq!(windows_1252_byte('€'), Some(0x80));
        assert_eq!(windows_1252_byte('é'), Some(0xE9));
        assert_eq!(windows_1252_byte('ÿ'), Some(0xFF));
        assert_eq!(windows_1252_byte('"'), Some(b'"'));
        assert_eq!(windows_1252_byte('ł'), None);
        assert_eq!(windows_1252_byte('日'), None);
        assert_eq!(first_unencodable(TextEncoding::Windows1252, "Łódź"), Some('Ł'));
        assert_eq!(first_unencodable(TextEncoding::Utf8, "Łódź"), None);
        assert_eq!(count_unencodable(TextEncoding::Windows1252, "Łódź €"), 2);
    }

    #[test]
    fn blocks_become_the_bytes_of_each_encoding() {
        let text = "café €5,Łx\n".as_bytes().to_vec();
        assert_eq!(transcode(TextEncoding::Utf8, text.clone()), text);
        assert_eq!(
            transcode(TextEncoding::Windows1252, text.clone()),
            b"caf\xE9 \x805,?x\n".to_vec()
        );
        assert_eq!(
            transcode(TextEncoding::Utf16Le, "a€\n".as_bytes().to_vec()),
            vec![b'a', 0, 0xAC, 0x20, b'\n', 0]
        );
        // A character beyond the basic plane takes a surrogate pair.
        assert_eq!(
            transcode(TextEncoding::Utf16Le, "😀".as_bytes().to_vec()),
            vec![0x3D, 0xD8, 0x00, 0xDE]
        );
    }
}
