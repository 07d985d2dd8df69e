//! Which encoding a text is in: its byte order mark, or the bytes themselves (UTF-16 by its NUL
//! bytes, UTF-8 when its sequences decode cleanly, else the legacy encoding they read best in),
//! with the evidence and how sure it is, for the sniff result to show.

use encoding_rs::Encoding;

/// How many decoded bytes are looked at to guess the encoding.
pub(in crate::import) const ENCODING_SAMPLE_BYTES: usize = 64 * 1024;

/// The text encoding of a source and how it was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceEncoding {
    /// The encoding the text is decoded from.
    pub encoding: &'static Encoding,
    /// Length of the byte order mark at the start of the (decompressed) stream, skipped on read.
    pub bom_len: usize,
}

impl SourceEncoding {
    /// The encoding's WHATWG name with "-BOM" when a byte order mark was present: "UTF-8-BOM".
    pub fn describe(&self) -> String {
        if self.bom_len > 0 {
            format!("{}-BOM", self.encoding.name())
        } else {
            self.encoding.name().to_string()
        }
    }
}

/// Why Sluice reads a file in the encoding it does, and how sure that is, for the preview.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodingEvidence {
    /// The person chose it.
    Chosen,
    /// Text that Sluice writes from a workbook, Parquet or JSON file, which store Unicode.
    Rendered,
    /// The stream starts with a byte order mark, which names its Unicode encoding.
    ByteOrderMark,
    /// Every other byte is zero, as in UTF-16 text without a byte order mark.
    Utf16Zeros,
    /// Every byte is ASCII, which UTF-8 and the legacy encodings read alike.
    Ascii,
    /// Every byte is valid UTF-8, and some are outside ASCII.
    ValidUtf8,
    /// UTF-8 with a few bytes that are not: their rows fail, naming `readable_in`, the legacy
    /// encoding the detector would read the file in.
    Utf8WithBadBytes {
        /// Bytes in the sample that are not valid UTF-8.
        bad_bytes: usize,
        /// The legacy encoding that would read them.
        readable_in: &'static Encoding,
    },
    /// A legacy encoding told by Firefox's detector from the bytes outside ASCII.
    Detected {
        /// Bytes outside ASCII in the sample: the detector's evidence.
        non_ascii_bytes: usize,
        /// The encoding told decodes the sample without a malformed sequence.
        reads_cleanly: bool,
    },
}

/// How sure an encoding's detection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Confidence {
    /// A detection from few bytes outside ASCII, or one that cannot read them all.
    Low,
    /// Told by the bytes with little room for doubt, but not proven.
    High,
    /// Chosen, stated by the file, or the only reading the bytes allow.
    Certain,
}

impl Confidence {
    /// The word for it in messages: "low", "high" or "certain".
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::High => "high",
            Self::Certain => "certain",
        }
    }
}

/// Bytes outside ASCII a legacy encoding must read for its detection to be trusted: fewer are a
/// name or two, which several encodings read as plausible letters.
pub(in crate::import) const TRUSTED_NON_ASCII_BYTES: usize = 16;

impl EncodingEvidence {
    /// How sure this evidence makes the encoding: a detection is trusted only when it read enough
    /// bytes outside ASCII, and all of them cleanly.
    pub fn confidence(&self) -> Confidence {
        match self {
            Self::Chosen | Self::Rendered | Self::ByteOrderMark | Self::Ascii | Self::ValidUtf8 => Confidence::Certain,
            Self::Utf16Zeros | Self::Utf8WithBadBytes { .. } => Confidence::High,
            Self::Detected {
                non_ascii_bytes,
                reads_cleanly,
            } => {
                if *reads_cleanly && *non_ascii_bytes >= TRUSTED_NON_ASCII_BYTES {
                    Confidence::High
                } else {
                    Confidence::Low
                }
            }
        }
    }

    /// Why, for people: "every byte is valid UTF-8".
    pub fn describe(&self) -> String {
        match self {
            Self::Chosen => "chosen".to_string(),
            Self::Rendered => "the file's format stores Unicode".to_string(),
            Self::ByteOrderMark => "the file starts with a byte order mark".to_string(),
            Self::Utf16Zeros => "every other byte is zero, as in UTF-16 text".to_string(),
            Self::Ascii => "every byte is ASCII, which every encoding offered here reads alike".to_string(),
            Self::ValidUtf8 => "every byte is valid UTF-8".to_string(),
            Self::Utf8WithBadBytes { bad_bytes, readable_in } => format!(
                "UTF-8 but for {bad_bytes} byte{} that {} not: their rows fail, and {} would read them",
                if *bad_bytes == 1 { "" } else { "s" },
                if *bad_bytes == 1 { "is" } else { "are" },
                readable_in.name()
            ),
            Self::Detected {
                non_ascii_bytes,
                reads_cleanly,
            } => {
                let told_by = format!(
                    "told by {non_ascii_bytes} byte{} outside ASCII",
                    if *non_ascii_bytes == 1 { "" } else { "s" }
                );
                match (self.confidence(), reads_cleanly) {
                    (Confidence::High, _) => told_by,
                    (_, false) => format!("{told_by}, some of which it cannot read: check the preview's text"),
                    _ => format!("only {told_by}: check the preview's text"),
                }
            }
        }
    }

    /// Confidence and reason in one line, as both front ends show it beside the encoding:
    /// "confidence high: told by 3,412 bytes outside ASCII".
    pub fn summary(&self) -> String {
        format!("confidence {}: {}", self.confidence().as_str(), self.describe())
    }

    /// The encoding that would read the bytes UTF-8 could not, when the file was kept UTF-8.
    pub fn readable_in(&self) -> Option<&'static Encoding> {
        match self {
            Self::Utf8WithBadBytes { readable_in, .. } => Some(readable_in),
            _ => None,
        }
    }
}

/// Every encoding a file can be read in, as offered to a person whose file was guessed wrong:
/// Unicode, Western, Central and Eastern European, Cyrillic, East Asian, then the rest. These are
/// all of `encoding_rs`'s but the two that decode nothing a file holds (`replacement`,
/// `x-user-defined`).
pub const SOURCE_ENCODINGS: [&Encoding; 38] = [
    encoding_rs::UTF_8,
    encoding_rs::UTF_16LE,
    encoding_rs::UTF_16BE,
    encoding_rs::WINDOWS_1252,
    encoding_rs::ISO_8859_15,
    encoding_rs::MACINTOSH,
    encoding_rs::WINDOWS_1250,
    encoding_rs::ISO_8859_2,
    encoding_rs::ISO_8859_3,
    encoding_rs::ISO_8859_4,
    encoding_rs::ISO_8859_10,
    encoding_rs::ISO_8859_13,
    encoding_rs::ISO_8859_14,
    encoding_rs::ISO_8859_16,
    encoding_rs::WINDOWS_1257,
    encoding_rs::WINDOWS_1251,
    encoding_rs::ISO_8859_5,
    encoding_rs::KOI8_R,
    encoding_rs::KOI8_U,
    encoding_rs::IBM866,
    encoding_rs::X_MAC_CYRILLIC,
    encoding_rs::BIG5,
    encoding_rs::GBK,
    encoding_rs::GB18030,
    encoding_rs::SHIFT_JIS,
    encoding_rs::EUC_JP,
    encoding_rs::ISO_2022_JP,
    encoding_rs::EUC_KR,
    encoding_rs::WINDOWS_1253,
    encoding_rs::ISO_8859_7,
    encoding_rs::WINDOWS_1254,
    encoding_rs::WINDOWS_1255,
    encoding_rs::ISO_8859_8,
    encoding_rs::ISO_8859_8_I,
    encoding_rs::WINDOWS_1256,
    encoding_rs::ISO_8859_6,
    encoding_rs::WINDOWS_1258,
    encoding_rs::WINDOWS_874,
];

/// Looks up an encoding by any WHATWG label ("utf-8", "latin1", "utf-16le", "cp1252", ...).
pub fn encoding_for_label(label: &str) -> Option<&'static Encoding> {
    Encoding::for_label(label.trim().as_bytes())
}

/// Guesses the encoding of the start of a stream.
///
/// A byte order mark decides. Without one, a strong pattern of NUL bytes in every other position
/// means UTF-16. Text that is valid UTF-8, or that has valid multi-byte UTF-8 sequences among a
/// few bad bytes, is UTF-8 (the bad bytes then fail their rows), unless an East Asian encoding
/// reads it whole. Anything else is in a legacy
/// encoding, which Firefox's detector (`chardetng`) tells from the bytes: Windows-1252 for most
/// Western spreadsheet exports, Big5, Shift_JIS, GBK, EUC-KR, Windows-1250/1251 and the others
/// for the rest. The evidence says why, and how sure that is.
pub fn detect_encoding_with_evidence(sample: &[u8], sample_is_whole_file: bool) -> (SourceEncoding, EncodingEvidence) {
    let with_bom = |encoding, bom_len| SourceEncoding { encoding, bom_len };
    if sample.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return (with_bom(encoding_rs::UTF_8, 3), EncodingEvidence::ByteOrderMark);
    }
    if sample.starts_with(&[0xFF, 0xFE]) {
        return (with_bom(encoding_rs::UTF_16LE, 2), EncodingEvidence::ByteOrderMark);
    }
    if sample.starts_with(&[0xFE, 0xFF]) {
        return (with_bom(encoding_rs::UTF_16BE, 2), EncodingEvidence::ByteOrderMark);
    }
    if let Some(utf16) = utf16_without_bom(sample) {
        return (with_bom(utf16, 0), EncodingEvidence::Utf16Zeros);
    }
    let (valid_multibyte, invalid) = utf8_census(sample, sample_is_whole_file);
    if invalid == 0 {
        let evidence = if valid_multibyte == 0 {
            EncodingEvidence::Ascii
        } else {
            EncodingEvidence::ValidUtf8
        };
        return (with_bom(encoding_rs::UTF_8, 0), evidence);
    }
    let legacy = legacy_encoding(sample, sample_is_whole_file);
    let reads_cleanly = decodes_cleanly(legacy, sample, sample_is_whole_file);
    // A few bad bytes among UTF-8 text fail their rows. But the two-byte characters of East Asian
    // encodings make valid UTF-8 sequences now and then: text that such an encoding reads whole,
    // with more bad bytes for UTF-8 than good sequences, is in that encoding.
    let reads_as_east_asian = !legacy.is_single_byte() && valid_multibyte < invalid && reads_cleanly;
    if valid_multibyte > 0 && !reads_as_east_asian {
        let evidence = EncodingEvidence::Utf8WithBadBytes {
            bad_bytes: invalid,
            readable_in: legacy,
        };
        (with_bom(encoding_rs::UTF_8, 0), evidence)
    } else {
        let evidence = EncodingEvidence::Detected {
            non_ascii_bytes: sample.iter().filter(|byte| !byte.is_ascii()).count(),
            reads_cleanly,
        };
        (with_bom(legacy, 0), evidence)
    }
}

/// Whether `encoding` reads `sample` without a malformed sequence (one cut by the end of a
/// sample that is not the whole file aside).
pub(in crate::import) fn decodes_cleanly(
    encoding: &'static Encoding,
    sample: &[u8],
    sample_is_whole_file: bool,
) -> bool {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let Some(capacity) = decoder.max_utf8_buffer_length_without_replacement(sample.len()) else {
        return false;
    };
    let mut decoded = vec![0u8; capacity];
    let (result, _, _) = decoder.decode_to_utf8_without_replacement(sample, &mut decoded, sample_is_whole_file);
    !matches!(result, encoding_rs::DecoderResult::Malformed(..))
}

/// The legacy encoding a sample that is not UTF-8 is most likely in.
/// The legacy encoding Firefox's detector reads `sample` in (never UTF-8).
pub(in crate::import) fn legacy_encoding(sample: &[u8], sample_is_whole_file: bool) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(sample, sample_is_whole_file);
    detector.guess(None, chardetng::Utf8Detection::Deny)
}

pub(in crate::import) fn bom_length_for(sample: &[u8], encoding: &'static Encoding) -> usize {
    match Encoding::for_bom(sample) {
        Some((bom_encoding, length)) if bom_encoding == encoding => length,
        _ => 0,
    }
}

pub(in crate::import) fn utf16_without_bom(sample: &[u8]) -> Option<&'static Encoding> {
    let pairs = sample.len() / 2;
    if pairs < 2 {
        return None;
    }
    let zero_even = sample.iter().step_by(2).filter(|b| **b == 0).count();
    let zero_odd = sample.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
    let mostly = |count: usize| count * 10 >= pairs * 4;
    let rarely = |count: usize| count * 20 <= pairs;
    if mostly(zero_odd) && rarely(zero_even) {
        Some(encoding_rs::UTF_16LE)
    } else if mostly(zero_even) && rarely(zero_odd) {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

/// Counts valid multi-byte UTF-8 sequences and invalid bytes. An incomplete sequence at the very
/// end of a truncated sample is not held against it.
pub(in crate::import) fn utf8_census(sample: &[u8], sample_is_whole_file: bool) -> (usize, usize) {
    let (mut valid_multibyte, mut invalid) = (0, 0);
    let mut rest = sample;
    loop {
        match std::str::from_utf8(rest) {
            Ok(text) => {
                valid_multibyte += text.chars().filter(|c| c.len_utf8() > 1).count();
                break;
            }
            Err(error) => {
                let (good, bad) = rest.split_at(error.valid_up_to());
                valid_multibyte +=
                    std::str::from_utf8(good).map_or(0, |text| text.chars().filter(|c| c.len_utf8() > 1).count());
                match error.error_len() {
                    Some(length) => {
                        invalid += 1;
                        rest = &bad[length..];
                    }
                    None => {
                        invalid += usize::from(sample_is_whole_file);
                        break;
                    }
                }
            }
        }
    }
    (valid_multibyte, invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect_encoding(sample: &[u8], sample_is_whole_file: bool) -> SourceEncoding {
        detect_encoding_with_evidence(sample, sample_is_whole_file).0
    }

    #[test]
    fn byte_order_marks_decide() {
        assert_eq!(detect_encoding(b"\xEF\xBB\xBFa,b", true).bom_len, 3);
        assert_eq!(detect_encoding(b"\xFF\xFEa\0", true).encoding, encoding_rs::UTF_16LE);
        assert_eq!(detect_encoding(b"\xFE\xFF\0a", true).encoding, encoding_rs::UTF_16BE);
    }

    #[test]
    fn nul_patterns_mean_utf16() {
        assert_eq!(detect_encoding(b"a\0,\0b\0\n\0", true).encoding, encoding_rs::UTF_16LE);
        assert_eq!(detect_encoding(b"\0a\0,\0b\0\n", true).encoding, encoding_rs::UTF_16BE);
        assert_eq!(detect_encoding(b"a,b\n\0,2,3\n", true).encoding, encoding_rs::UTF_8);
    }

    #[test]
    fn latin1_bytes_without_utf8_sequences_mean_windows_1252() {
        assert_eq!(detect_encoding(b"caf\xe9\n", true).encoding, encoding_rs::WINDOWS_1252);
        assert_eq!(detect_encoding("café\n".as_bytes(), true).encoding, encoding_rs::UTF_8);
        // Mostly UTF-8 with one stray byte: the stray byte fails its row later.
        assert_eq!(
            detect_encoding(b"caf\xc3\xa9,\xff\n", true).encoding,
            encoding_rs::UTF_8
        );
    }

    #[test]
    fn every_encoding_a_file_can_be_in_is_offered_once() {
        let names: std::collections::HashSet<&str> = SOURCE_ENCODINGS.iter().map(|encoding| encoding.name()).collect();
        assert_eq!(names.len(), SOURCE_ENCODINGS.len());
        for label in [
            "big5",
            "shift_jis",
            "euc-kr",
            "gb18030",
            "windows-1251",
            "koi8-r",
            "iso-8859-2",
            "macintosh",
        ] {
            let encoding = encoding_for_label(label).unwrap();
            assert!(SOURCE_ENCODINGS.contains(&encoding), "{label}");
        }
        assert!(!SOURCE_ENCODINGS.contains(&encoding_rs::REPLACEMENT));
    }

    #[test]
    fn legacy_encodings_of_east_asia_and_eastern_europe_are_told_from_the_bytes() {
        let tables = [
            (
                encoding_rs::BIG5,
                "姓名,地址,電話\n王小明,臺北市中正區重慶南路一段,02-2311-1234\n李大華,高雄市前鎮區中華五路,07-536-5678\n",
            ),
            (
                encoding_rs::SHIFT_JIS,
                "名前,住所,電話\n山田太郎,東京都千代田区丸の内,03-1234-5678\n鈴木花子,大阪府大阪市北区梅田,06-9876-5432\n",
            ),
            (
                encoding_rs::GBK,
                "姓名,地址,电话\n张伟,北京市海淀区中关村大街,010-6275-1234\n王芳,上海市浦东新区世纪大道,021-5888-5678\n",
            ),
            (
                encoding_rs::EUC_KR,
                "이름,주소,전화\n김철수,서울특별시 강남구 테헤란로,02-555-1234\n이영희,부산광역시 해운대구 우동,051-740-5678\n",
            ),
            (
                encoding_rs::WINDOWS_1251,
                "Фамилия,Город,Улица\nИванов Иван,Москва,Тверская улица\nПетрова Мария,Санкт-Петербург,Невский проспект\n",
            ),
            (
                encoding_rs::WINDOWS_1250,
                "Příjmení,Město,Ulice\nNovák Jiří,Praha,Václavské náměstí\nDvořáková Žofie,Brno,Náměstí Svobody\n",
            ),
        ];
        for (encoding, text) in tables {
            let text = text.repeat(8);
            let (bytes, _, unmappable) = encoding.encode(&text);
            assert!(!unmappable, "{}", encoding.name());
            let detected = detect_encoding(&bytes, true).encoding;
            // What counts is that the text reads back as written.
            let (decoded, _, malformed) = detected.decode(&bytes);
            assert!(
                !malformed && decoded == text,
                "{} detected as {}",
                encoding.name(),
                detected.name()
            );
        }
    }

    #[test]
    fn the_evidence_for_an_encoding_says_how_sure_it_is_and_what_would_read_bad_bytes() {
        let evidence = |bytes: &[u8]| detect_encoding_with_evidence(bytes, true).1;
        assert_eq!(evidence(b"a,b\n1,2\n"), EncodingEvidence::Ascii);
        assert_eq!(evidence("a,é\n".as_bytes()).confidence(), Confidence::Certain);
        assert_eq!(evidence(b"\xFF\xFEa\0"), EncodingEvidence::ByteOrderMark);
        // Many good UTF-8 sequences and one Windows-1252 byte: kept UTF-8, naming what reads it.
        let kept = evidence(b"caf\xc3\xa9,cr\xc3\xa8me,na\xc3\xafve,\xe9\n");
        assert_eq!(kept.readable_in(), Some(encoding_rs::WINDOWS_1252));
        assert_eq!(kept.confidence(), Confidence::High);
        // One accented name is too little to tell Windows-1252 from its neighbours for sure.
        let one_name = evidence(b"name\nRen\xe9\n");
        assert_eq!(one_name.confidence(), Confidence::Low);
        assert!(
            one_name
                .summary()
                .starts_with("confidence low: only told by 1 byte outside ASCII"),
            "{}",
            one_name.summary()
        );
        // A whole register in Big5 is told for sure.
        let register = "王小明,臺北市中正區重慶南路一段\n".repeat(8);
        let (bytes, _, _) = encoding_rs::BIG5.encode(&register);
        let big5 = detect_encoding_with_evidence(&bytes, true);
        assert_eq!(big5.0.encoding, encoding_rs::BIG5);
        assert_eq!(big5.1.confidence(), Confidence::High);
        assert_eq!(big5.1.readable_in(), None);
    }

    #[test]
    fn a_sequence_cut_by_the_sample_end_is_not_invalid() {
        let text = "é".repeat(10);
        let cut = &text.as_bytes()[..text.len() - 1];
        assert_eq!(detect_encoding(cut, false).encoding, encoding_rs::UTF_8);
    }
}
