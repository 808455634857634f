//! The family plan (F7) and the family portal's view of it.
//!
//! A plan is goals in the family's words, each optionally tied to an area of
//! the family-led assessment, and actions with one owner (a worker, an
//! organisation or a family member), a due date and a status. Reviews re-score
//! the goals. The rules here are pure: what counts as overdue, and what a
//! family member signed in to the portal may see and change.

use time::Date;

/// Where an action has got to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionStatus {
    NotStarted,
    InProgress,
    Done,
    Dropped,
}

impl ActionStatus {
    pub const ALL: [ActionStatus; 4] = [
        ActionStatus::NotStarted,
        ActionStatus::InProgress,
        ActionStatus::Done,
        ActionStatus::Dropped,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ActionStatus::NotStarted => "not_started",
            ActionStatus::InProgress => "in_progress",
            ActionStatus::Done => "done",
            ActionStatus::Dropped => "dropped",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ActionStatus::NotStarted => "Not started",
            ActionStatus::InProgress => "In progress",
            ActionStatus::Done => "Done",
            ActionStatus::Dropped => "No longer needed",
        }
    }

    pub fn parse(s: &str) -> Option<ActionStatus> {
        ActionStatus::ALL.into_iter().find(|a| a.code() == s.trim())
    }

    /// Still to be done.
    pub fn is_open(self) -> bool {
        matches!(self, ActionStatus::NotStarted | ActionStatus::InProgress)
    }
}

/// An action is overdue when it is still open and its due date has passed.
/// An action due today is not yet overdue.
pub fn is_overdue(status: ActionStatus, due_on: Date, today: Date) -> bool {
    status.is_open() && due_on < today
}

/// How many whole days an action is overdue by (0 when it is not).
pub fn days_overdue(status: ActionStatus, due_on: Date, today: Date) -> i64 {
    if is_overdue(status, due_on, today) {
        (today - due_on).whole_days()
    } else {
        0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoalStatus {
    Active,
    Achieved,
    Dropped,
}

impl GoalStatus {
    pub const ALL: [GoalStatus; 3] = [GoalStatus::Active, GoalStatus::Achieved, GoalStatus::Dropped];

    pub fn code(self) -> &'static str {
        match self {
            GoalStatus::Active => "active",
            GoalStatus::Achieved => "achieved",
            GoalStatus::Dropped => "dropped",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            GoalStatus::Active => "Working on it",
            GoalStatus::Achieved => "Achieved",
            GoalStatus::Dropped => "No longer a goal",
        }
    }

    pub fn parse(s: &str) -> Option<GoalStatus> {
        GoalStatus::ALL.into_iter().find(|g| g.code() == s.trim())
    }
}

/// Who owns an action: exactly one of a worker, an organisation or a family member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Worker(i64),
    Organisation(i64),
    FamilyMember(i64),
}

impl Owner {
    /// From a form value: `user:12`, `org:3` or `person:40`.
    pub fn parse(s: &str) -> Option<Owner> {
        let (kind, id) = s.trim().split_once(':')?;
        let id: i64 = id.parse().ok().filter(|n| *n > 0)?;
        match kind {
            "user" => Some(Owner::Worker(id)),
            "org" => Some(Owner::Organisation(id)),
            "person" => Some(Owner::FamilyMember(id)),
            _ => None,
        }
    }

    pub fn form_value(self) -> String {
        match self {
            Owner::Worker(id) => format!("user:{id}"),
            Owner::Organisation(id) => format!("org:{id}"),
            Owner::FamilyMember(id) => format!("person:{id}"),
        }
    }

    /// From the three nullable owner columns; `None` unless exactly one is set.
    pub fn from_columns(user: Option<i64>, organisation: Option<i64>, person: Option<i64>) -> Option<Owner> {
        match (user, organisation, person) {
            (Some(u), None, None) => Some(Owner::Worker(u)),
            (None, Some(o), None) => Some(Owner::Organisation(o)),
            (None, None, Some(p)) => Some(Owner::FamilyMember(p)),
            _ => None,
        }
    }

    /// (user, organisation, person) columns.
    pub fn columns(self) -> (Option<i64>, Option<i64>, Option<i64>) {
        match self {
            Owner::Worker(id) => (Some(id), None, None),
            Owner::Organisation(id) => (None, Some(id), None),
            Owner::FamilyMember(id) => (None, None, Some(id)),
        }
    }
}

/// A family member signed in to the portal: one person, in one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortalSubject {
    pub family_id: i64,
    pub person_id: i64,
}

/// What the portal needs to know about a goal, action or comment to decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortalItem {
    pub family_id: i64,
    pub shared_with_family: bool,
}

/// A family member sees only their own family's items, and only those marked
/// shareable with the family.
pub fn portal_may_see(subject: &PortalSubject, item: &PortalItem) -> bool {
    item.family_id == subject.family_id && item.shared_with_family
}

/// A family member may comment on any action they can see; they may record
/// progress (change the status) only on an action they own.
pub fn portal_may_update_status(subject: &PortalSubject, item: &PortalItem, owner: Option<Owner>) -> bool {
    portal_may_see(subject, item) && owner == Some(Owner::FamilyMember(subject.person_id))
}

/// The statuses a family member may choose for their own action.
pub const PORTAL_STATUSES: [ActionStatus; 3] = [ActionStatus::NotStarted, ActionStatus::InProgress, ActionStatus::Done];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::Duration;

    fn day(n: i64) -> Date {
        Date::from_calendar_date(2026, time::Month::January, 1).unwrap() + Duration::days(n)
    }

    fn status() -> impl Strategy<Value = ActionStatus> {
        prop::sample::select(ActionStatus::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn overdue_exactly_when_open_and_past_due(s in status(), due in 0i64..800, today in 0i64..800) {
            let overdue = is_overdue(s, day(due), day(today));
            prop_assert_eq!(overdue, s.is_open() && due < today);
            // Finished work is never overdue, whatever the dates.
            if !s.is_open() { prop_assert!(!overdue); }
            // Overdue stays overdue as time passes, until the action is finished.
            if overdue { prop_assert!(is_overdue(s, day(due), day(today + 1))); }
            prop_assert_eq!(days_overdue(s, day(due), day(today)) > 0, overdue);
        }

        #[test]
        fn owner_round_trips(kind in 0u8..3, id in 1i64..1_000_000) {
            let o = match kind { 0 => Owner::Worker(id), 1 => Owner::Organisation(id), _ => Owner::FamilyMember(id) };
            prop_assert_eq!(Owner::parse(&o.form_value()), Some(o));
            let (u, g, p) = o.columns();
            prop_assert_eq!(Owner::from_columns(u, g, p), Some(o));
        }

        #[test]
        fn portal_never_crosses_families(
            subject_family in 1i64..20, person in 1i64..50, item_family in 1i64..20,
            shared in any::<bool>(), owner_person in 1i64..50,
        ) {
            let s = PortalSubject { family_id: subject_family, person_id: person };
            let item = PortalItem { family_id: item_family, shared_with_family: shared };
            let seen = portal_may_see(&s, &item);
            prop_assert_eq!(seen, item_family == subject_family && shared);
            let update = portal_may_update_status(&s, &item, Some(Owner::FamilyMember(owner_person)));
            // Changing status needs sight of the item and ownership of the action.
            prop_assert!(!update || (seen && owner_person == person));
            prop_assert!(!portal_may_update_status(&s, &item, Some(Owner::Worker(person))));
        }
    }

    #[test]
    fn parses_only_known_owners() {
        assert_eq!(Owner::parse("user:0"), None);
        assert_eq!(Owner::parse("team:4"), None);
        assert_eq!(Owner::parse("user:-3"), None);
        assert_eq!(Owner::parse("person:7"), Some(Owner::FamilyMember(7)));
        assert_eq!(Owner::from_columns(Some(1), Some(2), None), None);
    }
}
