//! Local time: the zone people read and type times in (`EPA_TIMEZONE`, by default
//! `Europe/London`), and the one place that turns a stored UTC time into words for a page or an
//! email, or a typed local date and time into UTC. Storage and the JSON API stay in UTC.
//!
//! Daylight saving comes from the IANA time zone database (`chrono-tz`). A local time that does
//! not exist (the hour skipped when the clocks go forward) is refused; one that happens twice
//! (the hour repeated when they go back) is read as the earlier of the two, and the caller is told
//! so it can say so.

use chrono::offset::LocalResult;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The zone times are shown and typed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone(Tz);

impl Default for Zone {
    fn default() -> Self {
        Zone(chrono_tz::Europe::London)
    }
}

/// A typed local date and time, read in the zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Typed {
    pub utc: DateTime<Utc>,
    /// The local time happens twice that day (the clocks went back): `utc` is the earlier.
    pub ambiguous: bool,
}

/// Why a typed local date and time could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypedError {
    /// Nothing typed.
    Empty,
    /// Not a date and time.
    Malformed,
    /// A time the clocks skip that day (the local date and time typed).
    Skipped(NaiveDateTime),
}

impl Zone {
    /// An IANA zone name such as `Europe/London`.
    pub fn parse(name: &str) -> Result<Zone, String> {
        name.trim()
            .parse::<Tz>()
            .map(Zone)
            .map_err(|_| format!("{name:?} is not a time zone name from the IANA database (such as Europe/London)"))
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    fn local(&self, at: &str) -> Option<DateTime<Tz>> {
        DateTime::parse_from_rfc3339(at.trim()).ok().map(|t| t.with_timezone(&self.0))
    }

    /// A stored time as people read it, in the zone with its abbreviation:
    /// "Tue 3 Mar 2026, 14:30 GMT". Anything that is not a time is shown as it is.
    pub fn when(&self, at: &str) -> String {
        self.local(at).map(|t| t.format("%a %-d %b %Y, %H:%M %Z").to_string()).unwrap_or_else(|| at.to_string())
    }

    /// The date only, in the zone: "3 Mar 2026".
    pub fn day(&self, at: &str) -> String {
        self.local(at).map(|t| t.format("%-d %b %Y").to_string()).unwrap_or_else(|| at.to_string())
    }

    /// The date in words, for letters and emails: "3 March 2026".
    pub fn date_in_words(&self, at: &str) -> String {
        self.local(at).map(|t| t.format("%-d %B %Y").to_string()).unwrap_or_else(|| at.to_string())
    }

    /// A stored time as the value of an `<input type="datetime-local">`: "2026-03-03T14:30".
    pub fn input_value(&self, at: &str) -> String {
        self.local(at).map(|t| t.format("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default()
    }

    /// What a form says about the times it takes: "Europe/London time (GMT or BST, as on the day)".
    pub fn describe(&self) -> String {
        let year = chrono::Datelike::year(&Utc::now());
        let abbreviation =
            |month: u32| self.0.with_ymd_and_hms(year, month, 1, 12, 0, 0).single().map(|t| t.format("%Z").to_string());
        match (abbreviation(1), abbreviation(7)) {
            (Some(a), Some(b)) if a != b => format!("{} time ({a} or {b}, as on the day)", self.name()),
            (Some(a), _) => format!("{} time ({a})", self.name()),
            _ => format!("{} time", self.name()),
        }
    }

    /// Reads a local date and time as a `datetime-local` input sends it (`2026-07-14T14:30`,
    /// seconds optional; a space instead of the `T` is accepted too).
    pub fn read_typed(&self, value: &str) -> Result<Typed, TypedError> {
        let v = value.trim();
        if v.is_empty() {
            return Err(TypedError::Empty);
        }
        let naive = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(v, f).ok())
            .ok_or(TypedError::Malformed)?;
        match self.0.from_local_datetime(&naive) {
            LocalResult::Single(t) => Ok(Typed { utc: t.with_timezone(&Utc), ambiguous: false }),
            LocalResult::Ambiguous(a, b) => Ok(Typed { utc: a.min(b).with_timezone(&Utc), ambiguous: true }),
            LocalResult::None => Err(TypedError::Skipped(naive)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn london() -> Zone {
        Zone::default()
    }

    #[test]
    fn times_read_in_the_zone_with_its_abbreviation() {
        let z = london();
        assert_eq!(z.when("2026-03-03T14:30:00Z"), "Tue 3 Mar 2026, 14:30 GMT");
        assert_eq!(z.when("2026-07-14T13:30:00.000000Z"), "Tue 14 Jul 2026, 14:30 BST");
        assert_eq!(z.day("2026-07-14T23:30:00Z"), "15 Jul 2026", "after 23:00 UTC in summer it is tomorrow");
        assert_eq!(z.date_in_words("2026-12-01T10:00:00Z"), "1 December 2026");
        assert_eq!(z.date_in_words("2026-06-30T23:30:00Z"), "1 July 2026");
        assert_eq!(z.input_value("2026-07-14T13:30:00Z"), "2026-07-14T14:30");
        assert_eq!(z.when("garbage"), "garbage");
        assert_eq!(z.input_value("garbage"), "");
        let tokyo = Zone::parse("Asia/Tokyo").unwrap();
        assert_eq!(tokyo.when("2026-07-14T13:30:00Z"), "Tue 14 Jul 2026, 22:30 JST");
        assert_eq!(tokyo.describe(), "Asia/Tokyo time (JST)");
        assert_eq!(z.describe(), "Europe/London time (GMT or BST, as on the day)");
    }

    #[test]
    fn the_clocks_change_on_the_last_sundays_of_march_and_october() {
        let z = london();
        // 2026: forward at 01:00 UTC on Sunday 29 March, back at 01:00 UTC on Sunday 25 October.
        assert_eq!(z.when("2026-03-29T00:59:00Z"), "Sun 29 Mar 2026, 00:59 GMT");
        assert_eq!(z.when("2026-03-29T01:00:00Z"), "Sun 29 Mar 2026, 02:00 BST");
        assert_eq!(z.when("2026-10-25T00:59:00Z"), "Sun 25 Oct 2026, 01:59 BST");
        assert_eq!(z.when("2026-10-25T01:00:00Z"), "Sun 25 Oct 2026, 01:00 GMT");
        // The day before and after each change.
        assert_eq!(z.when("2026-03-28T14:30:00Z"), "Sat 28 Mar 2026, 14:30 GMT");
        assert_eq!(z.when("2026-03-30T13:30:00Z"), "Mon 30 Mar 2026, 14:30 BST");
        assert_eq!(z.when("2026-10-24T13:30:00Z"), "Sat 24 Oct 2026, 14:30 BST");
        assert_eq!(z.when("2026-10-26T14:30:00Z"), "Mon 26 Oct 2026, 14:30 GMT");
    }

    #[test]
    fn typed_local_times_become_utc_across_the_changes() {
        let z = london();
        let utc = |v: &str| {
            z.read_typed(v).map(|t| (crate::db::format_time(t.utc), t.ambiguous)).map_err(|e| match e {
                TypedError::Skipped(naive) => {
                    assert_eq!(naive.format("%Y-%m-%dT%H:%M").to_string(), v, "the time typed is kept");
                    "skipped"
                }
                TypedError::Empty => "empty",
                TypedError::Malformed => "malformed",
            })
        };
        let at = |s: &str| (s.to_string(), false);
        assert_eq!(utc("2026-07-14T14:30"), Ok(at("2026-07-14T13:30:00.000000Z")));
        assert_eq!(utc("2026-12-01T10:00"), Ok(at("2026-12-01T10:00:00.000000Z")));
        assert_eq!(utc("2026-12-01T10:00:30"), Ok(at("2026-12-01T10:00:30.000000Z")));
        assert_eq!(utc(" 2026-12-01 10:00 "), Ok(at("2026-12-01T10:00:00.000000Z")));
        // Spring forward, Sunday 29 March 2026: 01:00–01:59 does not exist.
        assert_eq!(utc("2026-03-29T00:59"), Ok(at("2026-03-29T00:59:00.000000Z")));
        assert_eq!(utc("2026-03-29T01:00"), Err("skipped"));
        assert_eq!(utc("2026-03-29T01:30"), Err("skipped"));
        assert_eq!(utc("2026-03-29T02:00"), Ok(at("2026-03-29T01:00:00.000000Z")));
        // 2027: the last Sunday of March is the 28th.
        assert_eq!(utc("2027-03-28T01:30"), Err("skipped"));
        // Fall back, Sunday 25 October 2026: 01:00–01:59 happens twice; the earlier (BST) is taken.
        assert_eq!(utc("2026-10-25T00:59"), Ok(at("2026-10-24T23:59:00.000000Z")));
        assert_eq!(utc("2026-10-25T01:30"), Ok(("2026-10-25T00:30:00.000000Z".to_string(), true)));
        assert_eq!(utc("2026-10-25T02:00"), Ok(at("2026-10-25T02:00:00.000000Z")));
        // Not a time.
        assert_eq!(utc(""), Err("empty"));
        assert_eq!(utc("  "), Err("empty"));
        assert_eq!(utc("tomorrow"), Err("malformed"));
        assert_eq!(utc("2026-02-30T10:00"), Err("malformed"));
        assert_eq!(utc("2026-07-14T14:30:00Z"), Err("malformed"), "a UTC time is not a local one");
    }

    #[test]
    fn zone_names_come_from_the_database() {
        assert_eq!(Zone::parse("Europe/London").unwrap(), Zone::default());
        assert_eq!(Zone::parse("UTC").unwrap().when("2026-07-14T13:30:00Z"), "Tue 14 Jul 2026, 13:30 UTC");
        let e = Zone::parse("Europe/Londres").unwrap_err();
        assert!(e.contains("Europe/Londres") && e.contains("IANA"), "{e}");
        assert!(Zone::parse("").is_err());
    }
}
