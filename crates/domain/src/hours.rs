//! Business hours of a skill group: a weekly timetable in a fixed UTC offset, holidays when it
//! is closed all day, and extra workdays (调休) when it keeps Monday's hours.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BusinessHours {
    /// Minutes east of UTC; 480 for China Standard Time.
    #[serde(default = "cst")]
    pub utc_offset_minutes: i32,
    /// "mon".."sun" → open intervals as ["09:00", "18:00"]; a missing day is closed.
    pub weekly: BTreeMap<String, Vec<[String; 2]>>,
    /// Dates ("2026-10-01") closed all day.
    #[serde(default)]
    pub holidays: Vec<String>,
    /// Dates open with Monday's hours even if they fall on a weekend.
    #[serde(default)]
    pub workdays: Vec<String>,
}

fn cst() -> i32 {
    480
}

fn minutes(hhmm: &str) -> Option<i64> {
    let (h, m) = hhmm.split_once(':')?;
    Some(h.trim().parse::<i64>().ok()? * 60 + m.trim().parse::<i64>().ok()?)
}

impl BusinessHours {
    /// Whether the group is open at `now`.
    pub fn is_open(&self, now: Timestamp) -> bool {
        let local_min = now.0.div_euclid(60_000) + i64::from(self.utc_offset_minutes);
        let days = local_min.div_euclid(1440);
        let minute = local_min.rem_euclid(1440);
        let (y, m, d) = crate::clock::civil(days);
        let date = format!("{y:04}-{m:02}-{d:02}");
        if self.holidays.contains(&date) {
            return false;
        }
        // 1970-01-01 was a Thursday.
        let weekday = DAYS[(days + 3).rem_euclid(7) as usize];
        let day = if self.workdays.contains(&date) { "mon" } else { weekday };
        self.weekly.get(day).is_some_and(|spans| {
            spans.iter().any(|[from, to]| match (minutes(from), minutes(to)) {
                (Some(a), Some(b)) => a <= minute && minute < b,
                _ => false,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours() -> BusinessHours {
        let day = vec![["09:00".to_owned(), "12:00".to_owned()], ["13:30".to_owned(), "18:00".to_owned()]];
        let weekly =
            ["mon", "tue", "wed", "thu", "fri"].iter().map(|d| (d.to_string(), day.clone())).collect();
        BusinessHours {
            utc_offset_minutes: 480,
            weekly,
            holidays: vec!["2026-10-01".into()],
            workdays: vec!["2026-10-11".into()],
        }
    }

    /// Beijing local time → timestamp.
    fn at(y: i64, mo: u32, d: u32, h: i64, mi: i64) -> Timestamp {
        // days_from_civil, inverse of `civil`.
        let (y2, m2) = if mo <= 2 { (y - 1, mo + 9) } else { (y, mo - 3) };
        let era = y2.div_euclid(400);
        let yoe = y2 - era * 400;
        let doy = (153 * i64::from(m2) + 2) / 5 + i64::from(d) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        Timestamp((days * 1440 + h * 60 + mi - 480) * 60_000)
    }

    #[test]
    fn weekdays_within_the_timetable_are_open() {
        let h = hours();
        assert!(h.is_open(at(2026, 11, 30, 9, 0)), "Monday 09:00");
        assert!(!h.is_open(at(2026, 11, 30, 8, 59)));
        assert!(!h.is_open(at(2026, 11, 30, 12, 30)), "lunch break");
        assert!(h.is_open(at(2026, 11, 30, 17, 59)));
        assert!(!h.is_open(at(2026, 11, 30, 18, 0)));
        assert!(!h.is_open(at(2026, 11, 29, 10, 0)), "Sunday");
    }

    #[test]
    fn holidays_close_and_extra_workdays_open() {
        let h = hours();
        assert!(!h.is_open(at(2026, 10, 1, 10, 0)), "national day, a Thursday");
        assert!(h.is_open(at(2026, 10, 11, 10, 0)), "a Sunday made a workday");
        assert!(!h.is_open(at(2026, 10, 10, 10, 0)), "an ordinary Saturday");
    }

    #[test]
    fn the_offset_decides_the_local_day() {
        let h = hours();
        // 2026-11-30 01:30 UTC is Monday 09:30 in Beijing but still Sunday in UTC.
        assert!(h.is_open(Timestamp(at(2026, 11, 30, 9, 30).0)));
        let utc = BusinessHours { utc_offset_minutes: 0, ..hours() };
        assert!(!utc.is_open(at(2026, 11, 30, 9, 30)));
    }
}
