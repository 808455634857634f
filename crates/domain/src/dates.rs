//! Dates people type: GOV.UK date inputs (day, month, year) and ISO dates.

use time::{Date, Month};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("must include a day, month and year")]
    Missing,
    #[error("must be a real date")]
    NotReal,
    #[error("must be in the past")]
    Future,
    #[error("must be after 1 January 1900")]
    TooOld,
}

/// From the three boxes of a GOV.UK date input. Empty boxes are `Missing`.
pub fn parse_date_parts(day: &str, month: &str, year: &str) -> Result<Date, DateError> {
    let (day, month, year) = (day.trim(), month.trim(), year.trim());
    if day.is_empty() || month.is_empty() || year.is_empty() {
        return Err(DateError::Missing);
    }
    // Digits only: `str::parse` would also take a sign ("+5", and a year of
    // "-111", four characters long; found by the `dates` fuzz target).
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(day) || !digits(month) || !digits(year) || year.len() != 4 {
        return Err(DateError::NotReal);
    }
    let d: u8 = day.parse().map_err(|_| DateError::NotReal)?;
    let m: u8 = month.parse().map_err(|_| DateError::NotReal)?;
    let y: i32 = year.parse().map_err(|_| DateError::NotReal)?;
    let m = Month::try_from(m).map_err(|_| DateError::NotReal)?;
    Date::from_calendar_date(y, m, d).map_err(|_| DateError::NotReal)
}

/// `YYYY-MM-DD`, as stored and as sent by HTML date fields and CSV feeds.
pub fn parse_iso(s: &str) -> Result<Date, DateError> {
    let mut it = s.trim().splitn(3, '-');
    let (y, m, d) = (it.next(), it.next(), it.next());
    match (y, m, d) {
        (Some(y), Some(m), Some(d)) => parse_date_parts(d, m, y),
        _ => Err(DateError::NotReal),
    }
}

pub fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

/// `3 March 2021`: the GOV.UK style for dates shown to people.
pub fn long(d: Date) -> String {
    format!("{} {} {}", d.day(), d.month(), d.year())
}

/// A date of birth must be real, not in the future, and after 1900.
pub fn check_date_of_birth(d: Date, today: Date) -> Result<Date, DateError> {
    if d > today {
        return Err(DateError::Future);
    }
    if d.year() < 1900 {
        return Err(DateError::TooOld);
    }
    Ok(d)
}

/// Whole years between a date of birth and `on`.
pub fn age_in_years(born: Date, on: Date) -> i32 {
    let mut years = on.year() - born.year();
    if (on.month() as u8, on.day()) < (born.month() as u8, born.day()) {
        years -= 1;
    }
    years
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn parses_govuk_parts_and_iso() {
        assert_eq!(parse_date_parts("3", "3", "2021"), Ok(date!(2021 - 03 - 03)));
        assert_eq!(parse_iso("2020-02-29"), Ok(date!(2020 - 02 - 29)));
        assert_eq!(parse_date_parts("", "3", "2021"), Err(DateError::Missing));
        assert_eq!(parse_date_parts("31", "2", "2021"), Err(DateError::NotReal));
        assert_eq!(parse_date_parts("1", "13", "2021"), Err(DateError::NotReal));
        assert_eq!(parse_date_parts("1", "1", "21"), Err(DateError::NotReal));
        assert_eq!(parse_iso("2021/01/01"), Err(DateError::NotReal));
    }

    /// Found by the `dates` fuzz target: "-111" is four characters long,
    /// and `str::parse` takes a sign.
    #[test]
    fn signs_are_not_digits() {
        assert_eq!(parse_date_parts("11", "1", "-111"), Err(DateError::NotReal));
        assert!(parse_iso("-111-01-11").is_err());
        assert_eq!(parse_date_parts("+5", "1", "2020"), Err(DateError::NotReal));
        assert_eq!(parse_date_parts("5", "+1", "2020"), Err(DateError::NotReal));
        assert_eq!(parse_date_parts("05", "01", "2020"), Ok(date!(2020 - 01 - 05)));
    }

    #[test]
    fn ages_count_birthdays() {
        assert_eq!(age_in_years(date!(2010 - 06 - 15), date!(2026 - 06 - 14)), 15);
        assert_eq!(age_in_years(date!(2010 - 06 - 15), date!(2026 - 06 - 15)), 16);
        assert_eq!(
            check_date_of_birth(date!(2030 - 01 - 01), date!(2026 - 01 - 01)),
            Err(DateError::Future)
        );
    }
}
