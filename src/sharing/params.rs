//! The protocol's parameters as sent (query strings carry text; Python sends booleans as
//! `True`/`False`), checked with the messages the reference server gives.

use crate::clock::parse_timestamp_ms;
use crate::{Error, Result};

/// A timestamp parameter (ISO 8601 with a time zone), in ms since the epoch.
pub fn timestamp(text: &str) -> Result<i64> {
    parse_timestamp_ms(text).ok_or_else(|| {
        Error::invalid(format!(
            "Invalid timestamp '{text}': use ISO 8601 with a time zone, e.g. 2024-01-31T00:00:00Z"
        ))
    })
}

/// `version` of `GET …/metadata`.
pub fn metadata_version(text: Option<&str>) -> Result<Option<i64>> {
    text.map(|t| {
        t.trim()
            .parse::<i64>()
            .map_err(|_| Error::invalid(format!("version '{t}' is not a valid number")))
    })
    .transpose()
}

/// A version parameter of `/changes` named `name`.
pub fn version(name: &str, text: Option<&str>) -> Result<Option<u64>> {
    text.map(|t| {
        let v: i64 = t
            .trim()
            .parse()
            .map_err(|_| Error::invalid(format!("{name} is not a valid number.")))?;
        u64::try_from(v).map_err(|_| Error::invalid(format!("{name} cannot be negative.")))
    })
    .transpose()
}

/// A boolean parameter: `true` or `false` in any case.
pub fn flag(name: &str, text: Option<&str>) -> Result<bool> {
    match text.map(str::trim) {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(_) => Err(Error::invalid(format!("{name} must be true or false."))),
    }
}

/// `maxFiles`, as a query string carries it (`/changes`) or a query body (`/query`).
pub fn max_files(text: Option<&str>) -> Result<Option<u64>> {
    let number = text
        .map(|m| {
            m.trim()
                .parse::<i64>()
                .map_err(|_| Error::invalid("maxFiles is not a valid number."))
        })
        .transpose()?;
    positive_max_files(number)
}

/// `maxFiles` must be positive.
pub fn positive_max_files(number: Option<i64>) -> Result<Option<u64>> {
    match number {
        Some(m) if m <= 0 => Err(Error::invalid("maxFiles must be positive.")),
        m => Ok(m.map(|m| m as u64)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_checked_with_the_reference_messages() {
        assert_eq!(
            timestamp("2024-01-31T00:00:00Z").unwrap(),
            1_706_659_200_000
        );
        assert!(timestamp("yesterday").is_err());
        assert_eq!(version("startingVersion", Some(" 3 ")).unwrap(), Some(3));
        assert_eq!(
            version("startingVersion", Some("-1"))
                .unwrap_err()
                .message(),
            "startingVersion cannot be negative."
        );
        assert_eq!(
            metadata_version(Some("x")).unwrap_err().message(),
            "version 'x' is not a valid number"
        );
        assert!(flag("f", Some("True")).unwrap() && !flag("f", None).unwrap());
        assert!(flag("f", Some("yes")).is_err());
        assert_eq!(max_files(Some("10")).unwrap(), Some(10));
        for bad in ["0", "-5", "ten"] {
            assert!(max_files(Some(bad)).is_err(), "{bad}");
        }
    }
}
