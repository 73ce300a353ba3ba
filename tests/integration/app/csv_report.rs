//! A CSV report parsed into its header and rows.

use std::collections::BTreeMap;

/// A CSV report: its header and its rows as column → value maps.
#[derive(Debug, Clone)]
pub struct Csv {
    pub header: Vec<String>,
    pub rows: Vec<BTreeMap<String, String>>,
}

impl Csv {
    pub fn parse(text: &str) -> Csv {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
        let header: Vec<String> = reader.headers().expect("a CSV header row").iter().map(str::to_string).collect();
        let rows = reader
            .records()
            .map(|r| {
                let r = r.expect("a CSV record");
                header.iter().cloned().zip(r.iter().map(str::to_string)).collect()
            })
            .collect();
        Csv { header, rows }
    }

    /// The rows whose `column` is `value`.
    pub fn rows_where(&self, column: &str, value: &str) -> Vec<&BTreeMap<String, String>> {
        self.rows.iter().filter(|r| r.get(column).map(String::as_str) == Some(value)).collect()
    }
}
