//! The universal pathway (F14): the contacts every child is offered from
//! pregnancy to school, and when each is due. Pure rules: the store gives a
//! child's date of birth (or expected delivery) and the stages already
//! completed; [`status`] says where each stage stands today.
//!
//! A stage has a window anchored on the birth or on the expected delivery:
//! before it opens the stage is upcoming, inside it the stage is due, after it
//! closes (and not completed) the stage is overdue. An antenatal stage not
//! completed before the baby was born is missed: it can no longer be done.
//! The pathway ends at five.

use time::{Date, Duration, Month};

use crate::model::code_enum;

code_enum!(
    /// The stage models a tenant may follow.
    PathwayModel {
        HealthyChildProgramme = "hcp": "Healthy Child Programme: the five mandated contacts",
        GreaterManchester = "gm": "Greater Manchester: the eight-stage model",
    }
);

/// What a stage's window is counted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Birth,
    ExpectedDelivery,
}

/// An offset from the anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offset {
    Days(i32),
    Weeks(i32),
    Months(i32),
}

impl Offset {
    /// The date this offset from `anchor` (months keep the day of the month,
    /// or the month's last day when it has fewer).
    pub fn from(self, anchor: Date) -> Date {
        match self {
            Offset::Days(d) => anchor + Duration::days(d.into()),
            Offset::Weeks(w) => anchor + Duration::weeks(w.into()),
            Offset::Months(m) => add_months(anchor, m),
        }
    }
}

/// `d` plus `months` calendar months, clamped to the end of a shorter month.
pub fn add_months(d: Date, months: i32) -> Date {
    let total = d.year() * 12 + (u8::from(d.month()) as i32 - 1) + months;
    let (year, month0) = (total.div_euclid(12), total.rem_euclid(12));
    let month = Month::try_from(month0 as u8 + 1).expect("1..=12");
    let last = month.length(year);
    Date::from_calendar_date(year, month, d.day().min(last)).expect("a valid day")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage {
    pub code: &'static str,
    pub label: &'static str,
    pub anchor: Anchor,
    pub opens: Offset,
    pub closes: Offset,
    /// When an overdue stage stops being chased (the next contact has taken
    /// its place): from then on it is missed.
    pub lapses: Offset,
}

const HCP: &[Stage] = &[
    Stage {
        code: "antenatal",
        label: "Antenatal contact (from 28 weeks)",
        anchor: Anchor::ExpectedDelivery,
        opens: Offset::Weeks(-12),
        lapses: Offset::Days(0),
        closes: Offset::Days(-1),
    },
    Stage {
        code: "new_birth",
        label: "New birth visit (10–14 days)",
        anchor: Anchor::Birth,
        opens: Offset::Days(10),
        lapses: Offset::Weeks(6),
        closes: Offset::Days(14),
    },
    Stage {
        code: "six_eight_weeks",
        label: "6–8 week review",
        anchor: Anchor::Birth,
        opens: Offset::Weeks(6),
        lapses: Offset::Months(9),
        closes: Offset::Weeks(8),
    },
    Stage {
        code: "nine_twelve_months",
        label: "9–12 month review",
        anchor: Anchor::Birth,
        opens: Offset::Months(9),
        lapses: Offset::Months(24),
        closes: Offset::Months(12),
    },
    Stage {
        code: "two_year",
        label: "2–2½ year review",
        anchor: Anchor::Birth,
        opens: Offset::Months(24),
        lapses: Offset::Months(60),
        closes: Offset::Months(30),
    },
];

const GM: &[Stage] = &[
    Stage {
        code: "gm_booking",
        label: "Stage 1: antenatal booking (by 12 weeks)",
        anchor: Anchor::ExpectedDelivery,
        opens: Offset::Weeks(-34),
        lapses: Offset::Weeks(-12),
        closes: Offset::Weeks(-28),
    },
    Stage {
        code: "antenatal",
        label: "Stage 2: antenatal contact (from 28 weeks)",
        anchor: Anchor::ExpectedDelivery,
        opens: Offset::Weeks(-12),
        lapses: Offset::Days(0),
        closes: Offset::Days(-1),
    },
    Stage {
        code: "new_birth",
        label: "Stage 3: new birth visit (10–14 days)",
        anchor: Anchor::Birth,
        opens: Offset::Days(10),
        lapses: Offset::Weeks(6),
        closes: Offset::Days(14),
    },
    Stage {
        code: "six_eight_weeks",
        label: "Stage 4: 6–8 week review",
        anchor: Anchor::Birth,
        opens: Offset::Weeks(6),
        lapses: Offset::Months(9),
        closes: Offset::Weeks(8),
    },
    Stage {
        code: "gm_three_four_months",
        label: "Stage 5: 3–4 month contact",
        anchor: Anchor::Birth,
        opens: Offset::Months(3),
        lapses: Offset::Months(9),
        closes: Offset::Months(4),
    },
    Stage {
        code: "nine_twelve_months",
        label: "Stage 6: 9–12 month review",
        anchor: Anchor::Birth,
        opens: Offset::Months(9),
        lapses: Offset::Months(24),
        closes: Offset::Months(12),
    },
    Stage {
        code: "gm_eighteen_months",
        label: "Stage 7: 18-month contact",
        anchor: Anchor::Birth,
        opens: Offset::Months(18),
        lapses: Offset::Months(24),
        closes: Offset::Months(20),
    },
    Stage {
        code: "two_year",
        label: "Stage 8: 2–2½ year integrated review",
        anchor: Anchor::Birth,
        opens: Offset::Months(24),
        lapses: Offset::Months(60),
        closes: Offset::Months(30),
    },
];

impl PathwayModel {
    pub fn stages(self) -> &'static [Stage] {
        match self {
            PathwayModel::HealthyChildProgramme => HCP,
            PathwayModel::GreaterManchester => GM,
        }
    }

    pub fn stage(self, code: &str) -> Option<&'static Stage> {
        self.stages().iter().find(|s| s.code == code)
    }
}

/// Where one stage stands for one child today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageStatus {
    /// Opens on this date.
    Upcoming {
        opens: Date,
    },
    /// Open now, closing on this date.
    Due {
        closes: Date,
    },
    /// Closed on this date without being completed.
    Overdue {
        closed: Date,
    },
    Completed {
        on: Date,
    },
    /// An antenatal stage not done before the birth.
    Missed,
}

impl StageStatus {
    pub fn label(self) -> &'static str {
        match self {
            StageStatus::Upcoming { .. } => "Upcoming",
            StageStatus::Due { .. } => "Due",
            StageStatus::Overdue { .. } => "Overdue",
            StageStatus::Completed { .. } => "Completed",
            StageStatus::Missed => "Missed",
        }
    }

    /// Due or overdue: something a practitioner should do.
    pub fn actionable(self) -> bool {
        matches!(self, StageStatus::Due { .. } | StageStatus::Overdue { .. })
    }
}

/// The last day a child is on the pathway: the day before their fifth birthday.
pub fn pathway_ends(born: Date) -> Date {
    add_months(born, 60) - Duration::days(1)
}

/// Where `stage` stands `today` for a child born on `born` (or, unborn,
/// expected on `expected`), completed on `completed` if it was. `None` when
/// the child is off the pathway (five or over) or nothing anchors the stage.
pub fn status(
    stage: &Stage,
    born: Option<Date>,
    expected: Option<Date>,
    completed: Option<Date>,
    today: Date,
) -> Option<StageStatus> {
    if let Some(b) = born
        && today > pathway_ends(b)
    {
        return None;
    }
    if let Some(on) = completed {
        return Some(StageStatus::Completed { on });
    }
    let anchor = match stage.anchor {
        Anchor::Birth => born.or(expected)?,
        Anchor::ExpectedDelivery => {
            if born.is_some_and(|b| b <= today) {
                return Some(StageStatus::Missed);
            }
            expected.or(born)?
        }
    };
    let (opens, closes, lapses) = (
        stage.opens.from(anchor),
        stage.closes.from(anchor),
        stage.lapses.from(anchor),
    );
    // A birth stage of an unborn baby waits for the birth.
    if stage.anchor == Anchor::Birth && born.is_none() {
        return Some(StageStatus::Upcoming { opens });
    }
    Some(if today < opens {
        StageStatus::Upcoming { opens }
    } else if today <= closes {
        StageStatus::Due { closes }
    } else if today < lapses.max(closes + Duration::days(1)) {
        StageStatus::Overdue { closed: closes }
    } else {
        StageStatus::Missed
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn day() -> impl Strategy<Value = Date> {
        (0i64..4000).prop_map(|d| date!(2020 - 01 - 01) + Duration::days(d))
    }

    #[test]
    fn months_clamp_to_the_end_of_a_shorter_month() {
        assert_eq!(add_months(date!(2025 - 01 - 31), 1), date!(2025 - 02 - 28));
        assert_eq!(add_months(date!(2024 - 01 - 31), 1), date!(2024 - 02 - 29));
        assert_eq!(add_months(date!(2025 - 11 - 15), 3), date!(2026 - 02 - 15));
        assert_eq!(add_months(date!(2025 - 03 - 15), -3), date!(2024 - 12 - 15));
    }

    #[test]
    fn the_healthy_child_programme_windows() {
        let born = date!(2026 - 01 - 10);
        let m = PathwayModel::HealthyChildProgramme;
        let nb = m.stage("new_birth").unwrap();
        assert_eq!(
            status(nb, Some(born), None, None, date!(2026 - 01 - 19)),
            Some(StageStatus::Upcoming {
                opens: date!(2026 - 01 - 20)
            })
        );
        assert_eq!(
            status(nb, Some(born), None, None, date!(2026 - 01 - 24)),
            Some(StageStatus::Due {
                closes: date!(2026 - 01 - 24)
            })
        );
        assert_eq!(
            status(nb, Some(born), None, None, date!(2026 - 01 - 25)),
            Some(StageStatus::Overdue {
                closed: date!(2026 - 01 - 24)
            })
        );
        // Once the 6–8 week review opens, a new birth visit not made is missed, not chased.
        assert_eq!(
            status(nb, Some(born), None, None, date!(2026 - 02 - 21)),
            Some(StageStatus::Missed)
        );
        let two = m.stage("two_year").unwrap();
        assert_eq!(
            status(two, Some(born), None, None, date!(2028 - 07 - 10)),
            Some(StageStatus::Due {
                closes: date!(2028 - 07 - 10)
            })
        );
        // Antenatal: due from 28 weeks; missed once the baby is born.
        let an = m.stage("antenatal").unwrap();
        let edd = date!(2026 - 06 - 01);
        assert_eq!(
            status(an, None, Some(edd), None, date!(2026 - 03 - 09)),
            Some(StageStatus::Due {
                closes: date!(2026 - 05 - 31)
            })
        );
        assert_eq!(
            status(an, Some(date!(2026 - 05 - 20)), Some(edd), None, date!(2026 - 05 - 21)),
            Some(StageStatus::Missed)
        );
        // An unborn baby's birth stages wait; a five-year-old is off the pathway.
        assert!(matches!(
            status(nb, None, Some(edd), None, date!(2026 - 06 - 20)),
            Some(StageStatus::Upcoming { .. })
        ));
        assert_eq!(
            status(two, Some(date!(2020 - 01 - 01)), None, None, date!(2025 - 01 - 01)),
            None
        );
        assert_eq!(m.stages().len(), 5);
        assert_eq!(PathwayModel::GreaterManchester.stages().len(), 8);
    }

    proptest! {
        #[test]
        fn a_stage_moves_only_forward_and_is_due_exactly_inside_its_window(
            born in day(), today in day(), later in 0i64..900, which in 0usize..8, gm in any::<bool>(),
        ) {
            let model = if gm { PathwayModel::GreaterManchester } else { PathwayModel::HealthyChildProgramme };
            let stage = &model.stages()[which % model.stages().len()];
            let rank = |s: Option<StageStatus>| match s {
                Some(StageStatus::Upcoming { .. }) => 0,
                Some(StageStatus::Due { .. }) => 1,
                Some(StageStatus::Overdue { .. }) | Some(StageStatus::Missed) => 2,
                Some(StageStatus::Completed { .. }) => 3,
                None => 4,
            };
            let now = status(stage, Some(born), None, None, today);
            let then = status(stage, Some(born), None, None, today + Duration::days(later));
            prop_assert!(rank(now) <= rank(then), "{now:?} then {then:?}");
            if stage.anchor == Anchor::Birth && today <= pathway_ends(born) {
                let (opens, closes) = (stage.opens.from(born), stage.closes.from(born));
                prop_assert!(opens <= closes);
                prop_assert_eq!(matches!(now, Some(StageStatus::Due { .. })), opens <= today && today <= closes);
            }
            // A completed stage is never due or overdue.
            let done = status(stage, Some(born), None, Some(born), today);
            prop_assert!(done.is_none_or(|s| !s.actionable()));
        }
    }
}
