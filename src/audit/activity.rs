//! The ledger at a glance: requests and refusals per hour over the last day and per day over
//! the last month, and the chain's state. The counts are kept between looks, so that each
//! look reads only the events appended since the last one.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::catalog::db::params;

use super::event::format_time_us;
use super::ledger::LedgerDb;
use crate::Result;

const HOUR_US: i64 = 3_600_000_000;
/// Days of the monthly view.
pub const DAYS: usize = 30;

/// Requests answered in one hour or day, and how many of them were refused (status 400 and
/// above); command-line runs are not requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    /// The bucket's start as event times spell it, cut to the bucket: `2026-12-04T21` for an
    /// hour, `2026-12-04` for a day.
    pub bucket: String,
    pub requests: u64,
    pub refused: u64,
}

/// How far the chain goes and when it was last signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainState {
    /// Events kept (after any archive cut).
    pub events: u64,
    pub head_seq: u64,
    pub sealed_seq: u64,
    pub sealed_at: String,
}

/// Requests per hour (by [`hour_label`]), counted up to the event `seq`.
#[derive(Default)]
pub struct Activity {
    counted: Mutex<Counted>,
}

#[derive(Default)]
struct Counted {
    seq: u64,
    hours: BTreeMap<String, (u64, u64)>,
}

impl Activity {
    /// The last 24 hours by hour and the last [`DAYS`] days by day, up to `now_us`, oldest
    /// first, empty ones included.
    pub fn recent(&self, ledger: &LedgerDb, now_us: i64) -> Result<(Vec<Count>, Vec<Count>)> {
        let this_hour = now_us.div_euclid(HOUR_US);
        let first_hour = (this_hour / 24 - DAYS as i64 + 1) * 24;
        let mut counted = self.counted.lock().unwrap_or_else(|p| p.into_inner());
        let head = ledger.head_seq()?;
        if head > counted.seq {
            let since = first_hour * HOUR_US;
            for (hour, (requests, refused)) in ledger.hourly(counted.seq, head, since)? {
                let kept = counted.hours.entry(hour).or_default();
                kept.0 += requests;
                kept.1 += refused;
            }
            counted.seq = head;
        }
        let first = hour_label(first_hour);
        counted.hours.retain(|hour, _| *hour >= first);
        let of = |hour: i64| {
            counted
                .hours
                .get(&hour_label(hour))
                .copied()
                .unwrap_or_default()
        };
        let count = |bucket: String, (requests, refused): (u64, u64)| Count {
            bucket,
            requests,
            refused,
        };
        let last_day = (this_hour - 23..=this_hour)
            .map(|h| count(hour_label(h), of(h)))
            .collect();
        let month = (0..DAYS as i64)
            .map(|d| {
                let day = first_hour + d * 24;
                let sum = (day..day + 24)
                    .map(of)
                    .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
                count(hour_label(day)[..10].to_string(), sum)
            })
            .collect();
        Ok((last_day, month))
    }
}

/// `2026-12-04T21`: how event times begin in that hour.
fn hour_label(hour: i64) -> String {
    format_time_us(hour * HOUR_US)[..13].to_string()
}

impl LedgerDb {
    /// Requests and refusals of each hour (by [`hour_label`]) among the events after `after`
    /// up to `head`, from `since_us` on.
    fn hourly(&self, after: u64, head: u64, since_us: i64) -> Result<Vec<(String, (u64, u64))>> {
        self.read(|conn| {
            conn.query_all(
                "SELECT hour, CAST(count(*) AS BIGINT),
                        CAST(sum(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS BIGINT)
                 FROM (SELECT substr(time, 1, 13) AS hour,
                              CAST(json_extract(event, '$.status') AS BIGINT) AS status
                       FROM events WHERE seq > ?1 AND seq <= ?2 AND time >= ?3) AS recent
                 WHERE status > 0 GROUP BY hour",
                params![after, head, format_time_us(since_us)],
                |r| Ok((r.get::<String>(0)?, (r.get(1)?, r.get(2)?))),
            )
        })
    }

    fn head_seq(&self) -> Result<u64> {
        self.read(|conn| {
            conn.query_one("SELECT coalesce(max(seq), 0) FROM events", &[], |r| {
                r.get(0)
            })
        })
    }

    pub fn chain_state(&self) -> Result<ChainState> {
        self.read(|conn| {
            conn.query_one(
                "SELECT (SELECT count(*) FROM events), head_seq, sealed_seq, sealed_at_us
                 FROM chain WHERE id = 1",
                &[],
                |r| {
                    Ok(ChainState {
                        events: r.get(0)?,
                        head_seq: r.get(1)?,
                        sealed_seq: r.get(2)?,
                        sealed_at: format_time_us(r.get(3)?),
                    })
                },
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Actor, Event, Sealing};
    use crate::signing_key::SigningKey;

    #[test]
    fn requests_are_counted_per_hour_and_day_and_past_hours_remembered() {
        let catalog = crate::catalog::Catalog::open_in_memory().unwrap();
        let (ledger, _) = LedgerDb::open(&catalog).unwrap();
        let key = SigningKey::for_tests();
        let now = 1_796_425_200_000_000 + 1_800_000_000; // 2026-12-04T23:30Z
        let event = |status: u16, hours_ago: i64| Event {
            action: "queryTable".into(),
            actor: Actor::anonymous(),
            status,
            time: format_time_us(now - hours_ago * HOUR_US),
            ..Event::default()
        };
        let mut events = vec![
            event(200, 0),
            event(200, 0),
            event(403, 0),
            event(0, 0),
            event(200, 5),
            event(200, 24 * 40),
        ];
        ledger
            .append(&mut events, &key, Sealing::default())
            .unwrap();
        let activity = Activity::default();
        let (hours, days) = activity.recent(&ledger, now).unwrap();
        assert_eq!(hours.len(), 24);
        let last = hours.last().unwrap();
        assert_eq!(last.bucket, "2026-12-04T23");
        assert_eq!((last.requests, last.refused), (3, 1), "{hours:?}");
        assert_eq!(hours[18].requests, 1, "five hours ago: {hours:?}");
        assert_eq!(days.len(), DAYS);
        assert_eq!(days.last().unwrap().bucket, "2026-12-04");
        assert_eq!(days.last().unwrap().requests, 4, "{days:?}");
        assert_eq!(
            days.iter().map(|d| d.requests).sum::<u64>(),
            4,
            "40 days ago is out"
        );

        // The next look reads only what was appended since, wherever its hour.
        let mut late = vec![event(200, 5), event(200, 0)];
        ledger.append(&mut late, &key, Sealing::default()).unwrap();
        let (hours, days) = activity.recent(&ledger, now).unwrap();
        assert_eq!(hours[18].requests, 2);
        assert_eq!(hours[23].requests, 4);
        assert_eq!(days.last().unwrap().requests, 6);
        // A day later, the oldest day is forgotten and the hours move on.
        let (hours, days) = activity.recent(&ledger, now + 24 * HOUR_US).unwrap();
        assert!(hours.iter().all(|h| h.requests == 0));
        assert_eq!(days[DAYS - 2].requests, 6);

        let state = ledger.chain_state().unwrap();
        assert_eq!((state.events, state.head_seq), (8, 8));
    }
}
