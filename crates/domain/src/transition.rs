//! Transitions (F19): the rules behind planning a young person's move to adult
//! services before they turn 18, and the move from primary to secondary school.
//! Pure functions over dates, property-tested.

use time::{Date, Duration, Month};

/// How many months before their 18th birthday a young person's transition is planned.
pub const PLANNING_MONTHS: i32 = 6;
/// A transition plan is due this many months before the 18th birthday.
pub const PLAN_DUE_MONTHS_BEFORE: i32 = 3;
/// When that date has passed, a new plan is due this many days from today.
pub const LATE_PLAN_DAYS: i64 = 14;

/// `date` moved by `months` calendar months; a day that does not exist in the
/// target month (31 April, 29 February in a common year) becomes that month's last day.
pub fn add_months(date: Date, months: i32) -> Date {
    let index = date.year() * 12 + (date.month() as i32 - 1) + months;
    let (year, month0) = (index.div_euclid(12), index.rem_euclid(12));
    let month = Month::try_from(month0 as u8 + 1).unwrap_or(Month::January);
    let last = month.length(year);
    Date::from_calendar_date(year, month, date.day().min(last)).unwrap_or(date)
}

/// The day someone born on `dob` turns `years` old. Someone born on 29 February
/// comes of age on 1 March in a common year (in England a person attains an age
/// at the start of the anniversary of their birth; in a common year there is
/// no 29 February, so the anniversary is taken as 1 March).
pub fn birthday(dob: Date, years: i32) -> Option<Date> {
    let year = dob.year().checked_add(years)?;
    match Date::from_calendar_date(year, dob.month(), dob.day()) {
        Ok(d) => Some(d),
        // Only 29 February can be missing.
        Err(_) => Date::from_calendar_date(year, Month::March, 1).ok(),
    }
}

/// The day someone born on `dob` turns 18.
pub fn turns_18(dob: Date) -> Option<Date> {
    birthday(dob, 18)
}

/// A young person is approaching 18 when they are not yet 18 and turn 18 within
/// six months of `today` (on or before the same day six months on).
pub fn approaching_18(dob: Date, today: Date) -> bool {
    match turns_18(dob) {
        Some(t) => today < t && t <= add_months(today, PLANNING_MONTHS),
        None => false,
    }
}

/// The earliest and latest dates of birth that can be approaching 18 on `today`,
/// a little wide so a store can narrow a query before `approaching_18` decides.
pub fn approaching_18_birth_window(today: Date) -> (Date, Date) {
    let earliest = add_months(today, -18 * 12) - Duration::days(2);
    let latest = add_months(add_months(today, PLANNING_MONTHS), -18 * 12) + Duration::days(2);
    (earliest, latest)
}

/// When a young person's transition plan is due: three months before they turn
/// 18, or, if that day has passed, two weeks from today.
pub fn plan_due(turns_18: Date, today: Date) -> Date {
    let due = add_months(turns_18, -PLAN_DUE_MONTHS_BEFORE);
    if due < today {
        today + Duration::days(LATE_PLAN_DAYS)
    } else {
        due
    }
}

/// The year of the academic year (England: 1 September to 31 August) that
/// contains `date`: 2025 for any day from 1 September 2025 to 31 August 2026.
pub fn academic_year(date: Date) -> i32 {
    if date.month() as u8 >= 9 {
        date.year()
    } else {
        date.year() - 1
    }
}

/// The school year group (England) of a child born on `dob` in the academic
/// year containing `today`: reception is 0, Year 6 is 6, Year 13 is 13. Children
/// born from 1 September to 31 August start reception together, in the
/// September after they turn four. `None` before reception or after Year 13.
pub fn school_year(dob: Date, today: Date) -> Option<i32> {
    let year = academic_year(today) - academic_year(dob) - 5;
    (0..=13).contains(&year).then_some(year)
}

/// The dates of birth of the children in Year 6 in the academic year containing
/// `today`: 1 September (Y − 11) to 31 August (Y − 10), both included.
pub fn year_6_birth_window(today: Date) -> (Date, Date) {
    let y = academic_year(today);
    (
        Date::from_calendar_date(y - 11, Month::September, 1).unwrap_or(today),
        Date::from_calendar_date(y - 10, Month::August, 31).unwrap_or(today),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn date() -> impl Strategy<Value = Date> {
        (0i64..20_000).prop_map(|d| date!(1970 - 01 - 01) + Duration::days(d))
    }

    #[test]
    fn examples() {
        assert_eq!(turns_18(date!(2008 - 05 - 05)), Some(date!(2026 - 05 - 05)));
        assert_eq!(turns_18(date!(2008 - 02 - 29)), Some(date!(2026 - 03 - 01)));
        assert_eq!(turns_18(date!(2004 - 02 - 29)), Some(date!(2022 - 03 - 01)));
        assert_eq!(birthday(date!(2004 - 02 - 29), 20), Some(date!(2024 - 02 - 29)));
        assert_eq!(add_months(date!(2026 - 08 - 31), 6), date!(2027 - 02 - 28));
        assert_eq!(add_months(date!(2026 - 03 - 31), -1), date!(2026 - 02 - 28));
        // In the academic year 2026/27, Year 6 were born 1 September 2015 to 31 August 2016.
        let today = date!(2026 - 11 - 29);
        assert_eq!(school_year(date!(2015 - 09 - 01), today), Some(6));
        assert_eq!(school_year(date!(2016 - 08 - 31), today), Some(6));
        assert_eq!(school_year(date!(2015 - 08 - 31), today), Some(7));
        assert_eq!(school_year(date!(2016 - 09 - 01), today), Some(5));
        assert_eq!(school_year(date!(2021 - 09 - 01), today), Some(0));
        assert_eq!(school_year(date!(2021 - 09 - 02), date!(2026 - 08 - 31)), None);
        assert_eq!(
            year_6_birth_window(today),
            (date!(2015 - 09 - 01), date!(2016 - 08 - 31))
        );
        // Turning 18 on 29 May 2027 is within six months of 29 November 2026; 30 May is not.
        assert!(approaching_18(date!(2009 - 05 - 29), today));
        assert!(!approaching_18(date!(2009 - 05 - 30), today));
        assert!(
            !approaching_18(date!(2008 - 11 - 29), today),
            "18 today is no longer approaching"
        );
        assert!(approaching_18(date!(2008 - 11 - 30), today));
        assert_eq!(plan_due(date!(2027 - 05 - 29), today), date!(2027 - 02 - 28));
        assert_eq!(plan_due(date!(2026 - 12 - 29), today), date!(2026 - 12 - 13));
    }

    proptest! {
        #[test]
        fn everyone_turns_18_once_on_their_birthday_or_1_march(dob in date()) {
            let t = turns_18(dob).unwrap();
            prop_assert_eq!(t.year(), dob.year() + 18);
            if (dob.month(), dob.day()) == (Month::February, 29) && !time::util::is_leap_year(t.year()) {
                prop_assert_eq!((t.month(), t.day()), (Month::March, 1));
            } else {
                prop_assert_eq!((t.month(), t.day()), (dob.month(), dob.day()));
            }
            // Later births never turn 18 earlier.
            prop_assert!(turns_18(dob + Duration::days(1)).unwrap() >= t);
        }

        #[test]
        fn approaching_18_is_the_six_months_before(dob in date(), today in date()) {
            let t = turns_18(dob).unwrap();
            let approaching = approaching_18(dob, today);
            prop_assert_eq!(approaching, today < t && t <= add_months(today, 6));
            if approaching {
                // Not yet 18, and at most 184 days to go.
                prop_assert!((t - today).whole_days() >= 1 && (t - today).whole_days() <= 184);
                let (earliest, latest) = approaching_18_birth_window(today);
                prop_assert!(earliest <= dob && dob <= latest);
                // The plan is due before the birthday and never in the past.
                let due = plan_due(t, today);
                prop_assert!(due >= today && due < t + Duration::days(LATE_PLAN_DAYS));
            }
            if (t - today).whole_days() > 0 && (t - today).whole_days() <= 181 {
                prop_assert!(approaching);
            }
        }

        #[test]
        fn add_months_moves_by_whole_months(d in date(), m in -300i32..300) {
            let moved = add_months(d, m);
            let months = |x: Date| x.year() * 12 + x.month() as i32;
            prop_assert_eq!(months(moved) - months(d), m);
            prop_assert!(moved.day() <= d.day());
        }

        #[test]
        fn school_years_follow_the_september_cohorts(dob in date(), today in date()) {
            let year = school_year(dob, today);
            if let Some(y) = year {
                prop_assert!((0..=13).contains(&y));
                // A child born a year earlier is a year ahead, while still at school.
                if let Some(older) = school_year(add_months(dob, -12), today) {
                    prop_assert_eq!(older, y + 1);
                }
                // A year later the same child is a year on.
                if let Some(next) = school_year(dob, add_months(today, 12)) {
                    prop_assert_eq!(next, y + 1);
                }
            }
            // The Year 6 window is exactly the children in Year 6.
            let (from, to) = year_6_birth_window(today);
            prop_assert_eq!(year == Some(6), from <= dob && dob <= to);
            // Children born on 31 August and 1 September of the same calendar year are a year apart.
            let aug = Date::from_calendar_date(dob.year(), Month::August, 31).unwrap();
            let sep = Date::from_calendar_date(dob.year(), Month::September, 1).unwrap();
            if let (Some(a), Some(s)) = (school_year(aug, today), school_year(sep, today)) {
                prop_assert_eq!(a, s + 1);
            }
        }
    }
}
