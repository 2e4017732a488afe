//! The `delta-sharing-capabilities` header and the choice of response format.
//!
//! Grammar: `key=value1,value2;key=value`, case-insensitive. Malformed pairs are ignored.

use super::ndjson::FileIdHash;
use std::collections::BTreeMap;

use crate::delta::Protocol;
use crate::{Error, Result};

pub const HEADER: &str = "delta-sharing-capabilities";

/// Reader features that concern only how the log is stored: the server reads the log, so a
/// parquet-format client never meets them.
const LOG_ONLY_FEATURES: &[&str] = &["v2Checkpoint", "vacuumProtocolCheck"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseFormat {
    Parquet,
    Delta,
}

impl ResponseFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseFormat::Parquet => "parquet",
            ResponseFormat::Delta => "delta",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Formats the client accepts, lower-case, in its order; empty = parquet only.
    pub response_formats: Vec<String>,
    /// Delta reader features the client supports, lower-case.
    pub reader_features: Vec<String>,
    /// The client wants an `endStreamAction` as the last line of query responses.
    pub include_end_stream_action: bool,
    /// The separate `fileidhash` header, as sent (checked where it is used).
    pub file_id_hash: Option<String>,
}

/// The `delta-sharing-capabilities` response header: the chosen format, and the end-of-stream
/// capability echoed when the client declared it.
pub fn response_header(format: ResponseFormat, end_stream: bool) -> String {
    let mut header = format!("responseformat={}", format.as_str());
    if end_stream {
        header.push_str(";includeendstreamaction=true");
    }
    header
}

impl Capabilities {
    /// The file-id scheme of the `fileidhash` header, if sent; 400 for an unknown one.
    pub fn file_id_scheme(&self) -> crate::Result<Option<FileIdHash>> {
        self.file_id_hash
            .as_deref()
            .map(|h| {
                FileIdHash::parse(h).ok_or_else(|| {
                    crate::Error::invalid(format!(
                        "fileidhash must be 'parquet' or 'delta', not '{h}'"
                    ))
                })
            })
            .transpose()
    }

    pub fn parse(header: Option<&str>) -> Self {
        let mut caps = Capabilities::default();
        for pair in header.unwrap_or("").to_ascii_lowercase().split(';') {
            let Some((key, values)) = pair.split_once('=') else {
                continue;
            };
            let values = values
                .split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty());
            match key.trim() {
                "responseformat" => caps.response_formats.extend(values),
                "readerfeatures" => caps.reader_features.extend(values),
                "includeendstreamaction" => {
                    caps.include_end_stream_action = values.into_iter().any(|v| v == "true")
                }
                _ => {}
            }
        }
        caps
    }

    fn accepts(&self, format: ResponseFormat) -> bool {
        match format {
            ResponseFormat::Parquet => {
                self.response_formats.is_empty()
                    || self.response_formats.iter().any(|f| f == "parquet")
            }
            ResponseFormat::Delta => self.response_formats.iter().any(|f| f == "delta"),
        }
    }

    /// Picks the response format for a table with `protocol` and table `configuration`
    /// (protocol.md §2.2): parquet when the client accepts it and the table needs no reader
    /// feature that changes what a parquet reader sees (a parquet reader would return wrong
    /// rows); otherwise delta, when the client accepts it and declares every such feature.
    /// A feature the table supports but has switched off does not count.
    pub fn choose_format(
        &self,
        protocol: &Protocol,
        configuration: &BTreeMap<String, String>,
    ) -> Result<ResponseFormat> {
        let needed: Vec<String> = protocol
            .required_reader_features()
            .into_iter()
            .filter(|f| !LOG_ONLY_FEATURES.contains(&f.as_str()) && !switched_off(f, configuration))
            .collect();
        if self.accepts(ResponseFormat::Parquet) && needed.is_empty() {
            return Ok(ResponseFormat::Parquet);
        }
        if !self.accepts(ResponseFormat::Delta) {
            return Err(Error::unsupported(format!(
                "the table needs the delta response format to be read correctly (it uses {}): \
                 ask with the header '{HEADER}: responseformat=delta;readerfeatures=...'",
                needed.join(", ")
            )));
        }
        let missing: Vec<&String> = needed
            .iter()
            .filter(|f| !self.reader_features.contains(&f.to_ascii_lowercase()))
            .collect();
        if !missing.is_empty() {
            return Err(Error::unsupported(format!(
                "the table uses reader features the client did not declare in readerfeatures: {}",
                missing
                    .iter()
                    .map(|f| f.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok(ResponseFormat::Delta)
    }
}

/// True when the table supports `feature` but its configuration leaves it unused.
fn switched_off(feature: &str, configuration: &BTreeMap<String, String>) -> bool {
    let setting = |key: &str| configuration.get(key).map(|v| v.to_ascii_lowercase());
    match feature {
        "columnMapping" => setting("delta.columnMapping.mode").is_none_or(|m| m == "none"),
        "deletionVectors" => setting("delta.enableDeletionVectors").is_none_or(|v| v != "true"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protocol(reader: i32, features: Option<&[&str]>) -> Protocol {
        Protocol {
            min_reader_version: reader,
            min_writer_version: 7,
            reader_features: features.map(|f| f.iter().map(|s| s.to_string()).collect()),
            writer_features: None,
        }
    }

    #[test]
    fn parses_the_python_connector_header() {
        let caps = Capabilities::parse(Some(
            "responseformat=delta,parquet;readerfeatures=deletionvectors,columnmapping,timestampntz",
        ));
        assert_eq!(caps.response_formats, ["delta", "parquet"]);
        assert_eq!(
            caps.reader_features,
            ["deletionvectors", "columnmapping", "timestampntz"]
        );
        assert_eq!(
            Capabilities::parse(Some("garbage;;=;ResponseFormat=PARQUET")).response_formats,
            ["parquet"]
        );
        assert_eq!(Capabilities::parse(None), Capabilities::default());
    }

    /// A configuration that switches deletion vectors and column mapping on.
    fn features_on() -> BTreeMap<String, String> {
        [
            ("delta.enableDeletionVectors", "true"),
            ("delta.columnMapping.mode", "name"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .into()
    }

    #[test]
    fn features_supported_but_switched_off_do_not_block_parquet() {
        let caps = Capabilities::default();
        let off = BTreeMap::new();
        let dv = protocol(3, Some(&["deletionVectors", "columnMapping"]));
        assert_eq!(
            caps.choose_format(&dv, &off).unwrap(),
            ResponseFormat::Parquet
        );
        assert_eq!(
            caps.choose_format(&protocol(2, None), &off).unwrap(),
            ResponseFormat::Parquet
        );
        let e = caps.choose_format(&dv, &features_on()).unwrap_err();
        assert!(
            e.message().contains("deletionVectors, columnMapping"),
            "{e}"
        );
        let ntz = protocol(3, Some(&["timestampNtz"]));
        assert!(
            caps.choose_format(&ntz, &off).is_err(),
            "changes types: not switchable"
        );
    }

    #[test]
    fn negotiation_follows_the_protocol_table() {
        let on = features_on();
        let plain = protocol(1, None);
        let dv = protocol(3, Some(&["deletionVectors"]));
        let caps = Capabilities::parse;
        // No header or parquet only: parquet, and tables that need more are refused.
        for header in [None, Some("responseformat=parquet")] {
            assert_eq!(
                caps(header).choose_format(&plain, &on).unwrap(),
                ResponseFormat::Parquet
            );
            let e = caps(header).choose_format(&dv, &on).unwrap_err();
            assert_eq!(e.code(), crate::ErrorCode::UnsupportedOperation);
            assert!(e.message().contains("deletionVectors"), "{e}");
        }
        // Both: parquet for plain tables, delta when needed (with the features declared).
        let python = caps(Some(
            "responseformat=delta,parquet;readerfeatures=deletionvectors,columnmapping,timestampntz",
        ));
        assert_eq!(
            python.choose_format(&plain, &on).unwrap(),
            ResponseFormat::Parquet
        );
        assert_eq!(
            python.choose_format(&dv, &on).unwrap(),
            ResponseFormat::Delta
        );
        assert_eq!(
            python.choose_format(&protocol(2, None), &on).unwrap(),
            ResponseFormat::Delta
        );
        // Delta only: always delta.
        let delta = caps(Some("responseformat=delta;readerfeatures=deletionVectors"));
        assert_eq!(
            delta.choose_format(&plain, &on).unwrap(),
            ResponseFormat::Delta
        );
        let e = delta
            .choose_format(
                &protocol(3, Some(&["deletionVectors", "typeWidening"])),
                &on,
            )
            .unwrap_err();
        assert!(e.message().ends_with("readerfeatures: typeWidening"), "{e}");
        // Log-only features never block.
        let v2 = protocol(3, Some(&["v2Checkpoint", "vacuumProtocolCheck"]));
        assert_eq!(
            Capabilities::default().choose_format(&v2, &on).unwrap(),
            ResponseFormat::Parquet
        );
    }
}
