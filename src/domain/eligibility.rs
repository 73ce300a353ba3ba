//! Whether an independent assessor may sit on a panel: the assessor register's record held
//! against the guide's `[assessors]` requirements, the standard, the viva date, the assessor's
//! earlier panels with this apprentice, and whether a conflict of interest can be checked at all.
//!
//! Pure: the caller reads the record and the facts, [`warnings`] says what is wrong, and the
//! configured [`AssessorRules`] decide whether that is reported (`warn`) or refuses the
//! appointment (`enforce`).

use std::cmp::Ordering;
use std::fmt;

use serde::Serialize;

use super::guide::AssessorRequirements;

/// A calendar day `YYYY-MM-DD` (0001-9999), compared in calendar order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day {
    year: i32,
    month: u32,
    day: u32,
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

impl Day {
    /// Reads exactly `YYYY-MM-DD` naming a real day, or None.
    pub fn parse(text: &str) -> Option<Day> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let digits = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = &text[r];
            part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok()).flatten()
        };
        let (year, month, day) = (digits(0..4)? as i32, digits(5..7)?, digits(8..10)?);
        let valid = year >= 1 && (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month);
        valid.then_some(Day { year, month, day })
    }

    /// The same day `months` later (the month's last day when it is shorter).
    pub fn add_months(self, months: u32) -> Day {
        let index = self.year as i64 * 12 + (self.month as i64 - 1) + months as i64;
        let (year, month) = ((index / 12) as i32, (index % 12) as u32 + 1);
        Day { year, month, day: self.day.min(days_in_month(year, month)) }
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// An assessor's record in the register, as the rule reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub experience_years: u32,
    /// The standards the assessor is approved for.
    pub standards: Vec<String>,
    pub trained_on: Option<Day>,
    pub standardised_on: Option<Day>,
}

/// Everything the rule needs about one appointment.
#[derive(Debug, Clone)]
pub struct Appointment<'a> {
    /// The guide's requirements (None: the guide states none).
    pub requirements: Option<&'a AssessorRequirements>,
    pub standard_id: &'a str,
    /// The viva's date: training and standardisation are judged on it.
    pub viva_on: Day,
    pub record: Option<&'a Record>,
    /// Whether the assessor belongs to an organisation (without one, the conflict-of-interest
    /// check against the employer and provider cannot be made).
    pub has_organisation: bool,
    /// How many other assessments of this apprentice and standard the assessor sat on.
    pub earlier_attempts: usize,
}

/// One reason an assessor does not meet the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Warning {
    /// One of `no_record`, `too_little_experience`, `not_trained`, `not_standardised`,
    /// `standardisation_expired`, `not_approved_for_standard`, `sat_on_earlier_attempt`,
    /// `conflict_unknown`.
    pub code: String,
    pub message: String,
}

impl Warning {
    fn new(code: &str, message: String) -> Self {
        Warning { code: code.to_string(), message }
    }
}

/// What an appointment of an assessor who does not meet the rules does (`EPA_ASSESSOR_RULES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AssessorRules {
    /// The appointment is made; the response and the audit entry carry the warnings.
    #[default]
    Warn,
    /// The appointment is refused (409 `assessor_not_eligible`).
    Enforce,
}

impl AssessorRules {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim() {
            "warn" => Ok(Self::Warn),
            "enforce" => Ok(Self::Enforce),
            other => Err(format!("must be warn or enforce, not {other:?}")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warn => "warn",
            Self::Enforce => "enforce",
        }
    }
}

/// Every reason the appointment does not meet the rules, in a fixed order (empty: eligible).
pub fn warnings(a: &Appointment<'_>) -> Vec<Warning> {
    let mut out = Vec::new();
    match a.record {
        None => out.push(Warning::new(
            "no_record",
            "has no record in the assessor register (experience, approvals, training, standardisation)".into(),
        )),
        Some(r) => {
            if let Some(req) = a.requirements {
                if r.experience_years < req.min_experience_years {
                    out.push(Warning::new(
                        "too_little_experience",
                        format!(
                            "has {} years of relevant experience; the standard asks for at least {}",
                            r.experience_years, req.min_experience_years
                        ),
                    ));
                }
                if req.training_required && r.trained_on.is_none_or(|t| t > a.viva_on) {
                    let message = match r.trained_on {
                        Some(t) => format!("is trained only on {t}, after the viva on {}", a.viva_on),
                        None => "has not been trained (with sample scoring) for the assessment".into(),
                    };
                    out.push(Warning::new("not_trained", message));
                }
                if let Some(months) = req.standardised_within_months {
                    match r.standardised_on {
                        None => out.push(Warning::new(
                            "not_standardised",
                            format!("has no standardisation recorded; the standard asks for one within {months} months of the viva"),
                        )),
                        Some(s) => match (s.add_months(months).cmp(&a.viva_on), s.cmp(&a.viva_on)) {
                            (Ordering::Less, _) => out.push(Warning::new(
                                "standardisation_expired",
                                format!(
                                    "was last standardised on {s}, more than {months} months before the viva on {}",
                                    a.viva_on
                                ),
                            )),
                            (_, Ordering::Greater) => out.push(Warning::new(
                                "not_standardised",
                                format!("is standardised only on {s}, after the viva on {}", a.viva_on),
                            )),
                            _ => {}
                        },
                    }
                }
            }
            if !r.standards.iter().any(|s| s == a.standard_id) {
                out.push(Warning::new(
                    "not_approved_for_standard",
                    format!("is not approved for the standard {}", a.standard_id),
                ));
            }
        }
    }
    if a.earlier_attempts > 0 {
        out.push(Warning::new(
            "sat_on_earlier_attempt",
            "sat on an earlier assessment of this apprentice for this standard, so has prior involvement".into(),
        ));
    }
    if !a.has_organisation {
        out.push(Warning::new(
            "conflict_unknown",
            "belongs to no organisation, so a conflict of interest with the employer or training provider cannot be checked"
                .into(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(t: &str) -> Day {
        Day::parse(t).unwrap()
    }

    const L4: AssessorRequirements =
        AssessorRequirements { min_experience_years: 5, training_required: true, standardised_within_months: Some(12) };

    fn good() -> Record {
        Record {
            experience_years: 8,
            standards: vec!["l4".into()],
            trained_on: Some(day("2025-01-10")),
            standardised_on: Some(day("2026-03-01")),
        }
    }

    fn codes(record: Option<&Record>, viva: &str, org: bool, earlier: usize) -> Vec<String> {
        let a = Appointment {
            requirements: Some(&L4),
            standard_id: "l4",
            viva_on: day(viva),
            record,
            has_organisation: org,
            earlier_attempts: earlier,
        };
        warnings(&a).into_iter().map(|w| w.code).collect()
    }

    #[test]
    fn days_are_exact_and_months_clamp() {
        assert_eq!(day("2026-02-28").to_string(), "2026-02-28");
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "26-01-01",
            "2026-1-01",
            "2026-01-01T",
            "0000-01-01",
            "2026/01/01",
            "+026-01-01",
        ] {
            assert_eq!(Day::parse(bad), None, "{bad}");
        }
        assert_eq!(day("2024-02-29").to_string(), "2024-02-29");
        assert_eq!(day("2026-01-31").add_months(1), day("2026-02-28"));
        assert_eq!(day("2025-12-15").add_months(12), day("2026-12-15"));
        assert!(day("2026-01-02") > day("2025-12-31"));
    }

    #[test]
    fn a_good_record_has_no_warnings() {
        assert!(codes(Some(&good()), "2026-12-01", true, 0).is_empty());
        // On the window's last day, still in it.
        assert!(codes(Some(&good()), "2027-03-01", true, 0).is_empty());
    }

    #[test]
    fn each_shortfall_is_one_warning() {
        assert_eq!(codes(None, "2026-12-01", true, 0), ["no_record"]);
        let few = Record { experience_years: 4, ..good() };
        assert_eq!(codes(Some(&few), "2026-12-01", true, 0), ["too_little_experience"]);
        let untrained = Record { trained_on: None, ..good() };
        assert_eq!(codes(Some(&untrained), "2026-12-01", true, 0), ["not_trained"]);
        let late = Record { trained_on: Some(day("2026-12-02")), ..good() };
        assert_eq!(codes(Some(&late), "2026-12-01", true, 0), ["not_trained"]);
        let never = Record { standardised_on: None, ..good() };
        assert_eq!(codes(Some(&never), "2026-12-01", true, 0), ["not_standardised"]);
        assert_eq!(codes(Some(&good()), "2027-03-02", true, 0), ["standardisation_expired"]);
        let other = Record { standards: vec!["other".into()], ..good() };
        assert_eq!(codes(Some(&other), "2026-12-01", true, 0), ["not_approved_for_standard"]);
        assert_eq!(codes(Some(&good()), "2026-12-01", true, 1), ["sat_on_earlier_attempt"]);
        assert_eq!(codes(Some(&good()), "2026-12-01", false, 0), ["conflict_unknown"]);
        assert_eq!(codes(None, "2026-12-01", false, 2), ["no_record", "sat_on_earlier_attempt", "conflict_unknown"]);
    }

    #[test]
    fn a_guide_without_requirements_asks_only_for_the_approval() {
        let bare = Record { experience_years: 0, trained_on: None, standardised_on: None, ..good() };
        let a = Appointment {
            requirements: None,
            standard_id: "l4",
            viva_on: day("2026-12-01"),
            record: Some(&bare),
            has_organisation: true,
            earlier_attempts: 0,
        };
        assert!(warnings(&a).is_empty());
        let not_training = AssessorRequirements { training_required: false, ..L4 };
        let a = Appointment { requirements: Some(&not_training), ..a };
        let codes: Vec<String> = warnings(&a).into_iter().map(|w| w.code).collect();
        assert_eq!(codes, ["too_little_experience", "not_standardised"], "no training asked for");
    }

    #[test]
    fn the_rules_setting_reads_two_words() {
        assert_eq!(AssessorRules::parse("warn"), Ok(AssessorRules::Warn));
        assert_eq!(AssessorRules::parse("enforce"), Ok(AssessorRules::Enforce));
        assert!(AssessorRules::parse("strict").unwrap_err().contains("\"strict\""));
        assert_eq!(AssessorRules::default(), AssessorRules::Warn);
    }
}
