//! Number and size formatting for people, shared by the command line and the window:
//! 1,234,567 and 420.5 MB.

/// 1234567 -> "1,234,567".
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Bytes in decimal megabytes with one decimal: "420.5 MB".
pub fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// Bytes in binary mebibytes: "256.0 MiB".
pub fn mebibytes(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(4_950_000), "4,950,000");
    }

    #[test]
    fn formats_sizes() {
        assert_eq!(megabytes(420_500_000), "420.5 MB");
        assert_eq!(mebibytes(256 * 1024 * 1024), "256.0 MiB");
    }
}
