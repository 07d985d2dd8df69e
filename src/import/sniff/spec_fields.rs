//! How the bytes and the encoding of an import's settings are written in its stored spec: as the
//! characters and the encoding name a person would type, so `sluice jobs --json` is readable and
//! specs written before the spec was typed still read.

use encoding_rs::Encoding;
use serde::{Deserialize, Deserializer, Serializer};

/// An optional byte (delimiter, quote, comment, escape) as a one-character string.
pub mod byte_char {
    use super::*;

    pub fn serialize<S: Serializer>(byte: &Option<u8>, serializer: S) -> Result<S::Ok, S::Error> {
        match byte {
            Some(byte) => serializer.serialize_some(&char::from(*byte).to_string()),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u8>, D::Error> {
        let Some(text) = Option::<String>::deserialize(deserializer)? else {
            return Ok(None);
        };
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(only), None) if only.is_ascii() => Ok(Some(only as u8)),
            _ => Err(serde::de::Error::custom(format!(
                "'{text}' is not a single ASCII character"
            ))),
        }
    }
}

/// An optional encoding by its WHATWG name ("UTF-8", "windows-1252").
pub mod encoding_name {
    use super::*;

    pub fn serialize<S: Serializer>(encoding: &Option<&'static Encoding>, serializer: S) -> Result<S::Ok, S::Error> {
        match encoding {
            Some(encoding) => serializer.serialize_some(encoding.name()),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<&'static Encoding>, D::Error> {
        let Some(label) = Option::<String>::deserialize(deserializer)? else {
            return Ok(None);
        };
        crate::import::encoding_for_label(&label)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown encoding '{label}'")))
    }
}

/// A file's encoding by its WHATWG name, with the length of the byte order mark it starts with.
pub mod source_encoding {
    use super::*;
    use crate::import::open::encoding::SourceEncoding;

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Named {
        name: String,
        #[serde(default)]
        bom_len: usize,
    }

    pub fn serialize<S: Serializer>(encoding: &SourceEncoding, serializer: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(
            &Named {
                name: encoding.encoding.name().to_string(),
                bom_len: encoding.bom_len,
            },
            serializer,
        )
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SourceEncoding, D::Error> {
        let named = Named::deserialize(deserializer)?;
        let encoding = crate::import::encoding_for_label(&named.name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown encoding '{}'", named.name)))?;
        Ok(SourceEncoding {
            encoding,
            bom_len: named.bom_len,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::import::SniffHints;

    #[test]
    fn hints_read_back_as_written() {
        let hints = SniffHints {
            delimiter: Some(b';'),
            quote: Some(b'\''),
            encoding: Some(encoding_rs::WINDOWS_1252),
            comment: Some(b'#'),
            null_markers: vec!["n/a".into()],
            skip: Some(2),
            ..SniffHints::default()
        };
        let json = serde_json::to_value(&hints).unwrap();
        assert_eq!(json["delimiter"], ";");
        assert_eq!(json["encoding"], "windows-1252");
        assert_eq!(serde_json::from_value::<SniffHints>(json).unwrap(), hints);
    }

    #[test]
    fn a_delimiter_of_two_characters_is_refused() {
        let refused = serde_json::from_str::<SniffHints>(r#"{"delimiter": ";;"}"#);
        assert!(refused.unwrap_err().to_string().contains("single ASCII character"));
    }
}
