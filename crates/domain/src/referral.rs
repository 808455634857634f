//! The front door's vocabulary and rules: routes in, needs (mapped to the ten
//! Supporting Families headline outcomes), triage decisions, and when a
//! referral is due to be triaged.

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use crate::model::code_enum;

code_enum!(
    /// The ten Supporting Families headline outcomes.
    HeadlineOutcome {
        Education = "education": "Getting a good education",
        EarlyYears = "early_years": "Good early years development",
        Health = "health": "Improved mental and physical health",
        Substances = "substances": "Promoting recovery and reducing harm from substance use",
        Relationships = "relationships": "Improved family relationships",
        Safeguarding = "safeguarding": "Children safe from abuse and exploitation",
        Crime = "crime": "Crime prevention and tackling crime",
        DomesticAbuse = "domestic_abuse": "Safe from domestic abuse",
        Housing = "housing": "Secure housing",
        Finance = "finance": "Financial stability",
    }
);

code_enum!(
    /// How a referral came in. One queue, whatever the route.
    Route {
        Professional = "professional": "Professional referral",
        SelfReferral = "self": "Self-referral",
        StepDown = "step_down": "Step-down from children's social care",
    }
);

code_enum!(
    Urgency {
        Routine = "routine": "Routine",
        Urgent = "urgent": "Urgent",
    }
);

code_enum!(
    /// Where a referral is in its life.
    Status {
        Draft = "draft": "Not sent",
        Open = "open": "Awaiting triage",
        Decided = "decided": "Decided",
    }
);

code_enum!(
    /// The level of need (a continuum of need, as most partnerships use).
    Level {
        Universal = "1": "Level 1: universal",
        SingleAgency = "2": "Level 2: early help, single agency",
        Targeted = "3": "Level 3: targeted multi-agency early help",
        Statutory = "4": "Level 4: statutory",
    }
);

code_enum!(
    /// What triage decided.
    Outcome {
        Signpost = "signpost": "Signpost to a service or the universal offer",
        SingleAgency = "single_agency": "Early help from one agency",
        MultiAgency = "multi_agency": "Multi-agency early help with a lead professional",
        StepUp = "step_up": "Step up to children's social care",
        NoFurtherAction = "nfa": "No further action",
    }
);

impl Outcome {
    /// Whether the decision needs the referral's people resolved into a family first.
    pub fn needs_family(self) -> bool {
        matches!(self, Outcome::SingleAgency | Outcome::MultiAgency | Outcome::StepUp)
    }
}

/// One entry of the needs list: a code, how a professional says it, how a
/// family says it, and the headline outcome it counts towards.
#[derive(Debug, Clone, Copy)]
pub struct Need {
    pub code: &'static str,
    pub label: &'static str,
    pub family_label: &'static str,
    pub outcome: HeadlineOutcome,
}

macro_rules! needs {
    ($($code:literal, $label:literal, $family:literal, $outcome:ident;)+) => {
        &[$(Need { code: $code, label: $label, family_label: $family, outcome: HeadlineOutcome::$outcome }),+]
    };
}

/// The needs list offered on every referral.
pub const NEEDS: &[Need] = needs![
    "school_attendance", "Poor school attendance", "Going to school regularly", Education;
    "exclusion", "Exclusion or risk of exclusion", "Being excluded from school", Education;
    "send_support", "Special educational needs not met", "Support with special educational needs", Education;
    "early_development", "Early development or speech and language", "My child's development, talking or play", EarlyYears;
    "parenting_early", "Parenting a baby or young child", "Being a parent of a baby or young child", EarlyYears;
    "child_mental_health", "Child or young person's mental health", "My child's feelings or mental health", Health;
    "parent_mental_health", "Parent or carer's mental health", "My own feelings or mental health", Health;
    "physical_health", "Physical health or disability", "Health or disability", Health;
    "substance_use", "Drug or alcohol use in the family", "Drinking or drugs in the family", Substances;
    "parental_conflict", "Parental conflict", "Arguing between parents", Relationships;
    "behaviour", "Behaviour at home", "My child's behaviour at home", Relationships;
    "young_carer", "Young carer", "A child caring for someone in the family", Relationships;
    "exploitation", "Risk of exploitation or going missing", "Worries about my child's safety outside the home", Safeguarding;
    "neglect_concern", "Concern about a child's care", "Worries about meeting my children's needs", Safeguarding;
    "offending", "Offending or anti-social behaviour", "Trouble with the police", Crime;
    "domestic_abuse", "Domestic abuse", "Feeling unsafe at home", DomesticAbuse;
    "housing", "Housing problems or risk of homelessness", "Housing or somewhere to live", Housing;
    "debt", "Debt or money worries", "Money or debt", Finance;
    "worklessness", "Worklessness or risk of it", "Finding work", Finance;
];

pub fn need(code: &str) -> Option<&'static Need> {
    NEEDS.iter().find(|n| n.code == code)
}

/// When a referral must be triaged: `hours` after it arrives, counting every
/// hour or only working hours (Monday to Friday, 09:00 to 17:00 UK time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueRule {
    pub hours: u32,
    pub working_hours_only: bool,
}

impl Default for DueRule {
    fn default() -> Self {
        DueRule {
            hours: 48,
            working_hours_only: false,
        }
    }
}

pub const DAY_STARTS: Time = Time::constant(9, 0, 0, 0);
pub const DAY_ENDS: Time = Time::constant(17, 0, 0, 0);

fn london() -> TimeZone {
    // Bundled with the binary, so the rule never depends on the host's zoneinfo.
    TimeZone::get("Europe/London").expect("the bundled time zone database has Europe/London")
}

pub fn is_working_day(d: Date) -> bool {
    !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

impl DueRule {
    /// The due instant, in unix milliseconds, for a referral received at `received_ms`.
    pub fn due_ms(&self, received_ms: i64) -> i64 {
        if !self.working_hours_only {
            return received_ms + i64::from(self.hours) * 3_600_000;
        }
        let tz = london();
        let at = |d: Date, t: Time| -> i64 {
            d.to_datetime(t)
                .to_zoned(tz.clone())
                .map(|z| z.timestamp().as_millisecond())
                .unwrap_or(received_ms)
        };
        let start = Timestamp::from_millisecond(received_ms).unwrap_or(Timestamp::UNIX_EPOCH);
        let local = start.to_zoned(tz.clone()).datetime();
        let mut day = local.date();
        // Where the clock starts: now if inside working hours, else the next opening.
        let mut from_ms = if is_working_day(day) && local.time() >= DAY_STARTS && local.time() < DAY_ENDS {
            received_ms
        } else {
            if !is_working_day(day) || local.time() >= DAY_ENDS {
                day = next_working_day(day);
            }
            at(day, DAY_STARTS)
        };
        let mut left = i64::from(self.hours) * 3_600_000;
        loop {
            let close = at(day, DAY_ENDS);
            let available = close - from_ms;
            if left <= available {
                return from_ms + left;
            }
            left -= available;
            day = next_working_day(day);
            from_ms = at(day, DAY_STARTS);
        }
    }

    /// Working (or all) milliseconds between two instants under this rule:
    /// the inverse of [`DueRule::due_ms`], used by tests and reports.
    pub fn elapsed_ms(&self, from_ms: i64, to_ms: i64) -> i64 {
        if to_ms <= from_ms {
            return 0;
        }
        if !self.working_hours_only {
            return to_ms - from_ms;
        }
        let tz = london();
        let at = |d: Date, t: Time| -> i64 {
            d.to_datetime(t)
                .to_zoned(tz.clone())
                .map(|z| z.timestamp().as_millisecond())
                .unwrap_or(from_ms)
        };
        let mut day = Timestamp::from_millisecond(from_ms)
            .unwrap_or(Timestamp::UNIX_EPOCH)
            .to_zoned(tz.clone())
            .date();
        let mut total = 0;
        loop {
            let open = at(day, DAY_STARTS);
            if open >= to_ms {
                return total;
            }
            if is_working_day(day) {
                let lo = open.max(from_ms);
                let hi = at(day, DAY_ENDS).min(to_ms);
                total += (hi - lo).max(0);
            }
            day = day.saturating_add(1.day());
        }
    }
}

fn next_working_day(d: Date) -> Date {
    let mut d = d.saturating_add(1.day());
    while !is_working_day(d) {
        d = d.saturating_add(1.day());
    }
    d
}

/// Whether an instant falls inside working hours (UK time), for tests and the queue.
pub fn in_working_hours(ms: i64) -> bool {
    let z = Timestamp::from_millisecond(ms)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned(london());
    is_working_day(z.date()) && z.time() >= DAY_STARTS && z.time() <= DAY_ENDS
}

/// Crockford's base-32 alphabet: no I, L, O or U, so a reference read over the
/// phone is not misheard.
const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A reference a family can quote, such as `KR-7F3K-9Q2M`, from 40 random bits.
pub fn reference(random: u64) -> String {
    let mut s = String::from("KR-");
    for i in 0..8 {
        if i == 4 {
            s.push('-');
        }
        let idx = ((random >> (5 * (7 - i))) & 31) as usize;
        s.push(ALPHABET[idx] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn forty_eight_clock_hours() {
        let r = DueRule::default();
        assert_eq!(r.due_ms(ms("2026-11-20T16:00:00Z")), ms("2026-11-22T16:00:00Z"));
    }

    #[test]
    fn working_hours_skip_the_weekend() {
        let r = DueRule {
            hours: 16,
            working_hours_only: true,
        };
        // Friday 15:00 GMT: 2 hours on Friday, 8 on Monday, 6 on Tuesday.
        assert_eq!(r.due_ms(ms("2026-11-20T15:00:00Z")), ms("2026-11-24T15:00:00Z"));
        // Saturday night: the clock starts on Monday at 09:00.
        assert_eq!(r.due_ms(ms("2026-11-21T22:00:00Z")), ms("2026-11-24T17:00:00Z"));
    }

    #[test]
    fn working_hours_follow_british_summer_time() {
        let r = DueRule {
            hours: 1,
            working_hours_only: true,
        };
        // 07:30 UTC on a July Monday is 08:30 BST: due at 10:00 BST = 09:00 UTC.
        assert_eq!(r.due_ms(ms("2026-07-06T07:30:00Z")), ms("2026-07-06T09:00:00Z"));
    }

    #[test]
    fn references_are_readable() {
        let r = reference(0xFF_FFFF_FFFF);
        assert_eq!(r, "KR-ZZZZ-ZZZZ");
        assert_eq!(reference(0), "KR-0000-0000");
        assert!(!reference(0x0012_3456_789A).contains(['I', 'L', 'O', 'U']));
    }

    #[test]
    fn every_need_has_a_distinct_code() {
        let mut codes: Vec<_> = NEEDS.iter().map(|n| n.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), NEEDS.len());
        for o in HeadlineOutcome::ALL {
            assert!(NEEDS.iter().any(|n| n.outcome == *o), "{o} has no need");
        }
    }

    // Any instant between 2020 and 2035.
    fn instant() -> impl Strategy<Value = i64> {
        1_577_836_800_000i64..2_051_222_400_000i64
    }

    proptest! {
        #[test]
        fn clock_hours_add_exactly(at in instant(), hours in 0u32..400) {
            let r = DueRule { hours, working_hours_only: false };
            prop_assert_eq!(r.due_ms(at) - at, i64::from(hours) * 3_600_000);
        }

        #[test]
        fn working_hours_due_is_in_working_hours_and_counts_exactly(at in instant(), hours in 1u32..200) {
            let r = DueRule { hours, working_hours_only: true };
            let due = r.due_ms(at);
            prop_assert!(due > at);
            prop_assert!(in_working_hours(due), "due {} is outside working hours", due);
            prop_assert_eq!(r.elapsed_ms(at, due), i64::from(hours) * 3_600_000);
            // Never sooner than the same number of clock hours.
            prop_assert!(due - at >= i64::from(hours) * 3_600_000);
        }

        #[test]
        fn later_arrival_is_never_due_sooner(a in instant(), gap in 0i64..(14 * 86_400_000), hours in 1u32..100, working in any::<bool>()) {
            let r = DueRule { hours, working_hours_only: working };
            prop_assert!(r.due_ms(a + gap) >= r.due_ms(a));
        }
    }
}
