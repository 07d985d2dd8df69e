//! Property test of values written as people write them: random tables written with a random
//! date format, decimal separator (with thousands grouping) and null marker are sniffed with
//! nothing said, and read back to the same typed values.

use proptest::prelude::*;
use sluice::import::ImportRequest;

use crate::support::TestDb;

#[derive(Clone, Debug)]
struct Style {
    date_format: &'static str,
    decimal_comma: bool,
    group_thousands: bool,
    null_marker: &'static str,
}

fn style() -> impl Strategy<Value = Style> {
    (
        prop::sample::select(vec![
            "%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%d-%b-%Y",
        ]),
        any::<bool>(),
        any::<bool>(),
        prop::sample::select(vec!["", "NA", "n/a", "NULL", "-"]),
    )
        .prop_map(|(date_format, decimal_comma, group_thousands, null_marker)| Style {
            date_format,
            decimal_comma,
            group_thousands,
            null_marker,
        })
}

/// `cents` as text in the style: "-1.234,50" or "1,234.50" or "1234.50".
fn amount(cents: i64, style: &Style) -> String {
    let (decimal, thousands) = if style.decimal_comma { (',', '.') } else { ('.', ',') };
    let whole = (cents.abs() / 100).to_string();
    let mut grouped = String::new();
    for (index, digit) in whole.chars().enumerate() {
        if style.group_thousands && index > 0 && (whole.len() - index).is_multiple_of(3) {
            grouped.push(thousands);
        }
        grouped.push(digit);
    }
    format!(
        "{}{grouped}{decimal}{:02}",
        if cents < 0 { "-" } else { "" },
        cents.abs() % 100
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn values_in_local_formats_read_back_to_the_same_typed_values(
        style in style(),
        rows in prop::collection::vec(
            ((1990i32..2030, 1u32..=12, 1u32..=28), -100_000_000i64..100_000_000, any::<bool>()),
            1..40,
        ),
    ) {
        let db = TestDb::new();
        let delimiter = if style.decimal_comma { ';' } else { ',' };
        let mut text = format!("day{delimiter}amount\n");
        let mut expected = Vec::new();
        // A day above 12 settles day-first against month-first, as real files soon do.
        let settling = ((2001, 1, 25), 1, false);
        for ((year, month, day), cents, null) in std::iter::once(&settling).chain(rows.iter()) {
            let date = chrono::NaiveDate::from_ymd_opt(*year, *month, *day).unwrap();
            let value = if *null { style.null_marker.to_string() } else { amount(*cents, &style) };
            let quoted = if value.contains(delimiter) { format!("\"{value}\"") } else { value };
            text.push_str(&format!("{}{delimiter}{quoted}\n", date.format(style.date_format)));
            // A null marker, or an empty field for the empty marker, is NULL.
            expected.push((date.format("%Y-%m-%d").to_string(), (!*null).then_some(*cents)));
        }
        let path = db.file("styled.csv", text.as_bytes());
        let summary = db.import_request(&ImportRequest::new(&path, "styled"));
        prop_assert_eq!(summary.rows_failed, 0, "{}", text);
        let mut statement = db
            .store
            .conn()
            .prepare("SELECT CAST(day AS VARCHAR), CAST(round(amount * 100) AS BIGINT) FROM styled")
            .unwrap();
        let found: Vec<(String, Option<i64>)> = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        prop_assert_eq!(found, expected, "{}", text);
    }
}
