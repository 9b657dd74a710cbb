//! Bucket boundaries in a time zone.
//!
//! Buckets are computed here, not by the store, so they are identical on every adapter and honour
//! daylight-saving changes: a day bucket runs from local midnight to the next local midnight, which
//! is 23 or 25 hours long on the days clocks change.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use crate::error::DomainError;

/// Most buckets one series may have.
pub const MAX_BUCKETS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Hour,
    Day,
    /// ISO weeks, starting Monday.
    Week,
}

impl Bucket {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "hour" => Some(Bucket::Hour),
            "day" => Some(Bucket::Day),
            "week" => Some(Bucket::Week),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Bucket::Hour => "hour",
            Bucket::Day => "day",
            Bucket::Week => "week",
        }
    }
}

/// The first instant at or after local midnight of `date` (midnight itself may not exist).
fn local_midnight(tz: &Tz, date: NaiveDate) -> DateTime<Utc> {
    let mut at: NaiveDateTime = date.and_hms_opt(0, 0, 0).expect("midnight is valid");
    loop {
        if let Some(t) = tz.from_local_datetime(&at).earliest() {
            return t.with_timezone(&Utc);
        }
        at += Duration::minutes(15);
    }
}

/// The start of the bucket containing `t`.
fn floor(t: DateTime<Utc>, bucket: Bucket, tz: &Tz) -> DateTime<Utc> {
    let local = t.with_timezone(tz);
    match bucket {
        Bucket::Hour => {
            t - Duration::minutes(local.minute() as i64)
                - Duration::seconds(local.second() as i64)
                - Duration::nanoseconds(local.nanosecond() as i64)
        }
        Bucket::Day => local_midnight(tz, local.date_naive()),
        Bucket::Week => {
            let back = local.weekday().num_days_from_monday() as i64;
            local_midnight(tz, local.date_naive() - Duration::days(back))
        }
    }
}

fn next(start: DateTime<Utc>, bucket: Bucket, tz: &Tz) -> DateTime<Utc> {
    match bucket {
        Bucket::Hour => start + Duration::hours(1),
        Bucket::Day => local_midnight(tz, start.with_timezone(tz).date_naive() + Duration::days(1)),
        Bucket::Week => {
            local_midnight(tz, start.with_timezone(tz).date_naive() + Duration::days(7))
        }
    }
}

/// Boundaries `b[0] < b[1] < … < b[n]` of the `n` buckets covering `[from, to)`: `b[0]` is the
/// start of the bucket containing `from`, `b[n]` the first boundary at or after `to`.
pub fn boundaries(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    bucket: Bucket,
    tz: &Tz,
) -> Result<Vec<DateTime<Utc>>, DomainError> {
    if to <= from {
        return Err(DomainError::invalid("to", "must be after from"));
    }
    let mut edges = vec![floor(from, bucket, tz)];
    while *edges.last().expect("not empty") < to {
        if edges.len() > MAX_BUCKETS {
            return Err(DomainError::invalid(
                "bucket",
                format!("the range needs more than {MAX_BUCKETS} buckets; widen the bucket or narrow the range"),
            ));
        }
        let last = *edges.last().expect("not empty");
        edges.push(next(last, bucket, tz));
    }
    Ok(edges)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn day_buckets_follow_local_midnight_across_dst() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        // Clocks go forward on 2026-03-29: that local day lasts 23 hours.
        let edges = boundaries(
            utc("2026-03-28T12:00:00Z"),
            utc("2026-03-30T12:00:00Z"),
            Bucket::Day,
            &tz,
        )
        .unwrap();
        assert_eq!(
            edges,
            vec![
                utc("2026-03-27T23:00:00Z"),
                utc("2026-03-28T23:00:00Z"),
                utc("2026-03-29T22:00:00Z"),
                utc("2026-03-30T22:00:00Z"),
            ]
        );
        assert_eq!(edges[2] - edges[1], Duration::hours(23));
    }

    #[test]
    fn weeks_start_on_monday_and_hours_are_hours() {
        let utc_tz: Tz = "UTC".parse().unwrap();
        let edges = boundaries(
            utc("2026-11-25T10:00:00Z"),
            utc("2026-11-26T00:00:00Z"),
            Bucket::Week,
            &utc_tz,
        )
        .unwrap();
        assert_eq!(edges[0], utc("2026-11-23T00:00:00Z"));
        let hours = boundaries(
            utc("2026-11-25T10:30:00Z"),
            utc("2026-11-25T13:00:00Z"),
            Bucket::Hour,
            &utc_tz,
        )
        .unwrap();
        assert_eq!(hours.len(), 4);
        assert_eq!(hours[0], utc("2026-11-25T10:00:00Z"));
    }

    #[test]
    fn too_many_buckets_or_an_empty_range_is_refused() {
        let tz: Tz = "UTC".parse().unwrap();
        assert!(boundaries(
            utc("2020-01-01T00:00:00Z"),
            utc("2026-01-01T00:00:00Z"),
            Bucket::Hour,
            &tz
        )
        .is_err());
        assert!(boundaries(
            utc("2026-01-01T00:00:00Z"),
            utc("2026-01-01T00:00:00Z"),
            Bucket::Day,
            &tz
        )
        .is_err());
    }
}
