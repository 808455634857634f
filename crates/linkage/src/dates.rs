//! Dates of birth: many input formats, placeholders treated as missing.

use serde::{Deserialize, Serialize};

/// A calendar date. Ordered by (year, month, day).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// A valid date of the proleptic Gregorian calendar (years 1800 to 2200).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        if !(1800..=2200).contains(&year) || !(1..=12).contains(&month) || day == 0 {
            return None;
        }
        (day <= days_in_month(year, month)).then_some(Date { year, month, day })
    }

    /// `yyyymmdd` as an integer (never 0).
    pub fn packed(self) -> u32 {
        self.year as u32 * 10_000 + self.month as u32 * 100 + self.day as u32
    }

    pub fn unpack(v: u32) -> Date {
        Date {
            year: (v / 10_000) as u16,
            month: (v / 100 % 100) as u8,
            day: (v % 100) as u8,
        }
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days(self) -> i64 {
        let (y, m, d) = (self.year as i64, self.month as i64, self.day as i64);
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(y: u16, m: u8) -> u8 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        2 => 28,
        _ => 31,
    }
}

/// Dates that systems write when they do not know the date of birth.
pub fn is_placeholder(d: Date) -> bool {
    matches!(
        (d.year, d.month, d.day),
        (1900, 1, 1) | (1899, 12, 31) | (1800, 1, 1) | (1901, 1, 1) | (2200, _, _)
    )
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month_name(s: &str) -> Option<u8> {
    let s = s.to_ascii_lowercase();
    if s.len() < 3 {
        return None;
    }
    MONTHS.iter().position(|m| s.starts_with(m)).map(|i| i as u8 + 1)
}

/// Parse a date of birth. Accepted: ISO `2015-03-03` (also with `/` or `.`),
/// `yyyymmdd`, UK order `dd/mm/yyyy`, `d/m/yy`, `dd-mm-yyyy`, `dd.mm.yyyy`,
/// and month names (`3 Mar 2015`, `3 March 2015`, `March 3, 2015`). A
/// time part after `T` or a space (`2015-03-03T00:00:00`) is ignored. When a
/// day/month order is impossible (`03/25/2015`) the other order is taken.
/// Two-digit years are 20yy when that is not after 2029, else 19yy.
/// Placeholders ([`is_placeholder`]) and anything else give `None`.
pub fn parse_date(s: &str) -> Option<Date> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let d = parse_any(s)?;
    (!is_placeholder(d)).then_some(d)
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn year(s: &str) -> Option<u16> {
    let v = num(s)?;
    match s.len() {
        4 => Some(v as u16),
        2 => Some(if v <= 29 { 2000 + v as u16 } else { 1900 + v as u16 }),
        _ => None,
    }
}

fn dm(y: u16, a: u32, b: u32) -> Option<Date> {
    // UK order first: a is the day, b the month.
    if a > 255 || b > 255 {
        return None;
    }
    Date::new(y, b as u8, a as u8).or_else(|| Date::new(y, a as u8, b as u8))
}

fn parse_any(s: &str) -> Option<Date> {
    // ISO timestamps: keep the date part.
    let s = match s.find(['T', 't']) {
        Some(i)
            if i >= 8
                && s.as_bytes()[..i]
                    .iter()
                    .all(|b| b.is_ascii_digit() || b"-/.".contains(b)) =>
        {
            &s[..i]
        }
        _ => s,
    };
    let s = match s.find(' ') {
        Some(i) if i >= 8 && s[..i].bytes().all(|b| b.is_ascii_digit() || b"-/.".contains(&b)) => &s[..i],
        _ => s,
    };
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        return Date::new(s[..4].parse().ok()?, s[4..6].parse().ok()?, s[6..].parse().ok()?);
    }
    let parts: Vec<&str> = s.split(['-', '/', '.', ' ', ',']).filter(|p| !p.is_empty()).collect();
    if parts.len() != 3 {
        return None;
    }
    let (a, b, c) = (parts[0], parts[1], parts[2]);
    // month names
    if let Some(m) = month_name(b) {
        return Date::new(year(c)?, m, num(a)? as u8);
    }
    if let Some(m) = month_name(a) {
        return Date::new(year(c)?, m, num(b)? as u8);
    }
    if a.len() == 4 {
        // yyyy-mm-dd (or yyyy-dd-mm when the month would be impossible)
        let y = year(a)?;
        let (mo, d) = (num(b)?, num(c)?);
        return if mo <= 12 {
            Date::new(y, mo as u8, d as u8)
        } else {
            dm(y, mo, d)
        };
    }
    if a.len() <= 2 && b.len() <= 2 && (c.len() == 4 || c.len() == 2) {
        return dm(year(c)?, num(a)?, num(b)?);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: u16, m: u8, dd: u8) -> Option<Date> {
        Date::new(y, m, dd)
    }

    #[test]
    fn formats() {
        assert_eq!(parse_date("2015-03-04"), d(2015, 3, 4));
        assert_eq!(parse_date("2015-03-04T00:00:00"), d(2015, 3, 4));
        assert_eq!(parse_date("04/03/2015"), d(2015, 3, 4));
        assert_eq!(parse_date("4/3/15"), d(2015, 3, 4));
        assert_eq!(parse_date("4/3/85"), d(1985, 3, 4));
        assert_eq!(parse_date("04-03-2015"), d(2015, 3, 4));
        assert_eq!(parse_date("04.03.2015"), d(2015, 3, 4));
        assert_eq!(parse_date("20150304"), d(2015, 3, 4));
        assert_eq!(parse_date("3 Mar 2015"), d(2015, 3, 3));
        assert_eq!(parse_date("3 March 2015"), d(2015, 3, 3));
        assert_eq!(parse_date("March 3, 2015"), d(2015, 3, 3));
        // an impossible month: the American order is taken
        assert_eq!(parse_date("03/25/2015"), d(2015, 3, 25));
        assert_eq!(parse_date("2015-25-03"), d(2015, 3, 25));
    }

    #[test]
    fn placeholders_and_rubbish_are_missing() {
        assert_eq!(parse_date("1900-01-01"), None);
        assert_eq!(parse_date("01/01/1900"), None);
        assert_eq!(parse_date(""), None);
        assert_eq!(parse_date("2015-02-30"), None);
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(parse_date("2015-13-13"), None);
    }

    #[test]
    fn days_and_packing() {
        assert_eq!(Date::new(1970, 1, 1).unwrap().days(), 0);
        assert_eq!(
            Date::new(2000, 3, 1).unwrap().days() - Date::new(2000, 2, 28).unwrap().days(),
            2
        );
        let x = Date::new(2015, 3, 4).unwrap();
        assert_eq!(Date::unpack(x.packed()), x);
        assert_eq!(parse_date(&x.to_string()), Some(x));
    }
}
