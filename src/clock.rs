//! Wall-clock time in the units the Delta log and the protocol use.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (UTC).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// RFC 3339 rendering of a millisecond timestamp, e.g. `2026-11-26T04:00:00.000Z`.
pub fn format_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// Parses a protocol timestamp (ISO 8601 / RFC 3339 with an offset, e.g.
/// `2022-01-01T00:00:00Z` or `2022-01-01T01:00:00.5+01:00`) into milliseconds since the epoch.
pub fn parse_timestamp_ms(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Parses a duration such as `30d`, `12h`, `15m`, `90s` or `2w`.
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    Some(std::time::Duration::from_secs(n.checked_mul(secs)?))
}

/// A duration in milliseconds (saturating).
pub fn duration_ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A duration in the largest unit [`parse_duration`] reads that divides it: `90d`, `36h`, `90s`.
pub fn format_duration_ms(ms: i64) -> String {
    let secs = ms / 1000;
    [("w", 7 * 86_400), ("d", 86_400), ("h", 3600), ("m", 60)]
        .into_iter()
        .find(|(_, unit)| secs > 0 && secs % unit == 0)
        .map(|(name, unit)| format!("{}{name}", secs / unit))
        .unwrap_or_else(|| format!("{secs}s"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip() {
        let ms = parse_timestamp_ms("2022-01-01T00:00:00Z").unwrap();
        assert_eq!(ms, 1_640_995_200_000);
        assert_eq!(format_ms(ms), "2022-01-01T00:00:00.000Z");
        assert_eq!(
            parse_timestamp_ms("2022-01-01T01:00:00.5+01:00"),
            Some(ms + 500)
        );
        assert_eq!(parse_timestamp_ms("2022-01-01"), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30d").unwrap().as_secs(), 30 * 86_400);
        assert_eq!(parse_duration("15m").unwrap().as_secs(), 900);
        assert!(parse_duration("30").is_none());
        assert!(parse_duration("d").is_none());
        assert!(parse_duration("3y").is_none());
        assert_eq!(format_duration_ms(90 * 86_400_000), "90d");
        assert_eq!(format_duration_ms(14 * 86_400_000), "2w");
        assert_eq!(format_duration_ms(36 * 3_600_000), "36h");
        assert_eq!(format_duration_ms(90_000), "90s");
    }
}
