//! Episodes: one period of work with a family, opened (from triage or by a
//! lead professional) and closed. While open, an episode runs through its
//! stages — assessment, plan, review — and its level of need can be stepped
//! up to children's social care or down to early help. Closure records a
//! reason and an outcome; a closed episode can only be reopened.
//!
//! These are the rules of which change is allowed from where; pages and the
//! demo ask [`apply`] before they store anything.

use crate::model::code_enum;
use crate::referral::Level;

code_enum!(
    /// Where an episode is in its work. A closed episode is at `Closure`.
    Stage {
        Assessment = "assessment": "Assessment",
        Plan = "plan": "Plan",
        Review = "review": "Review",
        Closure = "closure": "Closed",
    }
);

code_enum!(
    Status {
        Open = "open": "Open",
        Closed = "closed": "Closed",
    }
);

code_enum!(
    /// How an episode ended.
    Outcome {
        NeedsMet = "needs_met": "Needs met",
        PartlyMet = "partly_met": "Needs partly met",
        NotMet = "not_met": "Needs not met",
        SteppedUp = "stepped_up": "Stepped up to children's social care",
        Disengaged = "disengaged": "Family disengaged",
        MovedAway = "moved_away": "Family moved away",
    }
);

code_enum!(
    /// What the timeline records.
    EventKind {
        Opened = "opened": "Opened",
        StageChanged = "stage_changed": "Stage changed",
        LeadChanged = "lead_changed": "Lead professional changed",
        SteppedUp = "stepped_up": "Stepped up",
        SteppedDown = "stepped_down": "Stepped down",
        Closed = "closed": "Closed",
        Reopened = "reopened": "Reopened",
    }
);

/// What the rules need to know about an episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    pub status: Status,
    pub stage: Stage,
    pub level: Level,
}

impl State {
    /// A newly opened episode.
    pub fn opened(level: Level) -> State {
        State {
            status: Status::Open,
            stage: Stage::Assessment,
            level,
        }
    }
}

/// A change someone asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Move to another working stage (not `Closure`: that is [`Change::Close`]).
    MoveTo(Stage),
    /// Another worker leads the episode.
    ChangeLead,
    /// To children's social care (level 4).
    StepUp,
    /// From children's social care to early help (level 3).
    StepDown,
    Close {
        reason: String,
        outcome: Option<Outcome>,
    },
    Reopen,
}

impl Change {
    /// What the timeline calls this change.
    pub fn event(&self) -> EventKind {
        match self {
            Change::MoveTo(_) => EventKind::StageChanged,
            Change::ChangeLead => EventKind::LeadChanged,
            Change::StepUp => EventKind::SteppedUp,
            Change::StepDown => EventKind::SteppedDown,
            Change::Close { .. } => EventKind::Closed,
            Change::Reopen => EventKind::Reopened,
        }
    }
}

/// Why a change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("This episode is closed: it can only be reopened")]
    Closed,
    #[error("This episode is open: only a closed episode can be reopened")]
    NotClosed,
    #[error("The episode cannot move from {from} to {to}")]
    StageOrder { from: Stage, to: Stage },
    #[error("Enter the reason for closing the episode")]
    MissingReason,
    #[error("Choose the outcome of the episode")]
    MissingOutcome,
    #[error("This episode is already with children's social care")]
    AlreadyStatutory,
    #[error("Only an episode with children's social care can be stepped down")]
    NotStatutory,
}

/// The working stages an open episode may move to from `from`: assessment
/// leads to a plan, a plan to its review, and a review to a new plan.
pub fn next_stages(from: Stage) -> &'static [Stage] {
    match from {
        Stage::Assessment => &[Stage::Plan],
        Stage::Plan => &[Stage::Review],
        Stage::Review => &[Stage::Plan],
        Stage::Closure => &[],
    }
}

/// Where the episode will be after `change`, or why not.
pub fn apply(state: State, change: &Change) -> Result<State, Refusal> {
    if state.status == Status::Closed {
        return match change {
            Change::Reopen => Ok(State {
                status: Status::Open,
                stage: Stage::Assessment,
                level: state.level,
            }),
            _ => Err(Refusal::Closed),
        };
    }
    match change {
        Change::Reopen => Err(Refusal::NotClosed),
        Change::MoveTo(to) => {
            if next_stages(state.stage).contains(to) {
                Ok(State { stage: *to, ..state })
            } else {
                Err(Refusal::StageOrder {
                    from: state.stage,
                    to: *to,
                })
            }
        }
        Change::ChangeLead => Ok(state),
        Change::StepUp => {
            if state.level == Level::Statutory {
                Err(Refusal::AlreadyStatutory)
            } else {
                Ok(State {
                    level: Level::Statutory,
                    ..state
                })
            }
        }
        Change::StepDown => {
            if state.level == Level::Statutory {
                Ok(State {
                    level: Level::Targeted,
                    ..state
                })
            } else {
                Err(Refusal::NotStatutory)
            }
        }
        Change::Close { reason, outcome } => {
            if reason.trim().is_empty() {
                Err(Refusal::MissingReason)
            } else if outcome.is_none() {
                Err(Refusal::MissingOutcome)
            } else {
                Ok(State {
                    status: Status::Closed,
                    stage: Stage::Closure,
                    ..state
                })
            }
        }
    }
}

/// Whether entering `stage` starts the clock on a review: a plan is reviewed,
/// and a review leads to the next one.
pub fn review_due_on_entering(stage: Stage) -> bool {
    matches!(stage, Stage::Plan | Stage::Review)
}

/// Weeks from entering a plan or review to the review due.
pub const REVIEW_WEEKS: i64 = 12;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn stage() -> impl Strategy<Value = Stage> {
        prop::sample::select(Stage::ALL.to_vec())
    }
    fn level() -> impl Strategy<Value = Level> {
        prop::sample::select(Level::ALL.to_vec())
    }
    fn outcome() -> impl Strategy<Value = Option<Outcome>> {
        prop::option::of(prop::sample::select(Outcome::ALL.to_vec()))
    }
    fn state() -> impl Strategy<Value = State> {
        (any::<bool>(), stage(), level()).prop_map(|(open, stage, level)| {
            if open {
                State {
                    status: Status::Open,
                    stage: if stage == Stage::Closure { Stage::Review } else { stage },
                    level,
                }
            } else {
                State {
                    status: Status::Closed,
                    stage: Stage::Closure,
                    level,
                }
            }
        })
    }
    fn change() -> impl Strategy<Value = Change> {
        prop_oneof![
            stage().prop_map(Change::MoveTo),
            Just(Change::ChangeLead),
            Just(Change::StepUp),
            Just(Change::StepDown),
            (
                prop_oneof![Just(String::new()), Just("  ".to_string()), "[a-z ]{1,20}"],
                outcome()
            )
                .prop_map(|(reason, outcome)| Change::Close { reason, outcome }),
            Just(Change::Reopen),
        ]
    }

    proptest! {
        #[test]
        fn a_closed_episode_can_only_be_reopened(s in state(), c in change()) {
            prop_assume!(s.status == Status::Closed);
            let after = apply(s, &c);
            if c == Change::Reopen {
                let after = after.unwrap();
                prop_assert_eq!(after.status, Status::Open);
                prop_assert_eq!(after.stage, Stage::Assessment);
                prop_assert_eq!(after.level, s.level);
            } else {
                prop_assert_eq!(after, Err(Refusal::Closed));
            }
        }

        #[test]
        fn closure_requires_a_reason_and_an_outcome(s in state(), c in change()) {
            if let (Change::Close { reason, outcome }, Ok(after)) = (&c, apply(s, &c)) {
                prop_assert!(!reason.trim().is_empty());
                prop_assert!(outcome.is_some());
                prop_assert_eq!(after.status, Status::Closed);
                prop_assert_eq!(after.stage, Stage::Closure);
            }
        }

        #[test]
        fn only_closure_closes_and_open_episodes_stay_in_working_stages(s in state(), c in change()) {
            if let Ok(after) = apply(s, &c) {
                prop_assert_eq!(after.status == Status::Closed, matches!(c, Change::Close { .. }));
                prop_assert_eq!(after.stage == Stage::Closure, after.status == Status::Closed);
            }
        }

        #[test]
        fn stages_move_only_as_the_work_does(s in state(), to in stage()) {
            let after = apply(s, &Change::MoveTo(to));
            match after {
                Ok(a) => {
                    prop_assert_eq!(s.status, Status::Open);
                    prop_assert!(to != Stage::Closure && to != Stage::Assessment);
                    prop_assert!(next_stages(s.stage).contains(&a.stage));
                    prop_assert_eq!(a.level, s.level);
                }
                Err(_) => prop_assert!(s.status == Status::Closed || !next_stages(s.stage).contains(&to)),
            }
        }

        #[test]
        fn stepping_changes_the_level_and_nothing_else(s in state()) {
            if let Ok(up) = apply(s, &Change::StepUp) {
                prop_assert_eq!(up.level, Level::Statutory);
                prop_assert!(s.level != Level::Statutory);
                prop_assert_eq!((up.status, up.stage), (s.status, s.stage));
                // Stepping down after stepping up returns to early help.
                prop_assert_eq!(apply(up, &Change::StepDown).unwrap().level, Level::Targeted);
            }
            if let Ok(down) = apply(s, &Change::StepDown) {
                prop_assert_eq!(s.level, Level::Statutory);
                prop_assert!(down.level < Level::Statutory);
            }
        }
    }

    #[test]
    fn a_new_episode_is_assessed_first() {
        let s = State::opened(Level::Targeted);
        assert_eq!(s.stage, Stage::Assessment);
        assert_eq!(
            apply(s, &Change::MoveTo(Stage::Review)).unwrap_err().to_string(),
            "The episode cannot move from Assessment to Review"
        );
        assert!(review_due_on_entering(
            apply(s, &Change::MoveTo(Stage::Plan)).unwrap().stage
        ));
    }
}
