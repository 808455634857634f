//! Tasks: one model for every piece of work with a date on it — reviews due,
//! alerts, follow-ups, welcome contacts, transition plans — each assigned to
//! a worker or a team, open until someone marks it done.

use time::Date;

use crate::model::code_enum;

code_enum!(
    /// What the task is for. Every feature that gives someone work adds a kind here.
    Kind {
        ReviewDue = "review_due": "Review due",
        Alert = "alert": "Alert",
        FollowUp = "follow_up": "Follow-up",
        WelcomeContact = "welcome_contact": "Welcome contact",
        TransitionPlan = "transition_plan": "Transition plan",
        SustainmentCheck = "sustainment_check": "Sustainment check",
    }
);

code_enum!(
    Status {
        Open = "open": "Open",
        Done = "done": "Done",
    }
);

/// A task is overdue when it is open and was due before today. A task due
/// today is not yet overdue; a done task never is.
pub fn is_overdue(status: Status, due_on: Date, today: Date) -> bool {
    status == Status::Open && due_on < today
}

/// The order of an inbox: open before done, then soonest due (so overdue
/// first), then oldest task.
pub fn inbox_key(status: Status, due_on: Date, id: i64) -> (bool, Date, i64) {
    (status == Status::Done, due_on, id)
}

/// Who may mark a task done: the worker it is assigned to, or anyone in the
/// team it is assigned to.
pub fn may_complete(
    user_id: i64,
    team_id: Option<i64>,
    assigned_user: Option<i64>,
    assigned_team: Option<i64>,
) -> bool {
    assigned_user == Some(user_id) || (assigned_team.is_some() && assigned_team == team_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::Duration;

    fn date() -> impl Strategy<Value = Date> {
        (0i64..3000).prop_map(|d| time::macros::date!(2024 - 01 - 01) + Duration::days(d))
    }
    fn status() -> impl Strategy<Value = Status> {
        prop::sample::select(Status::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn overdue_means_open_and_due_before_today(s in status(), due in date(), today in date()) {
            prop_assert_eq!(is_overdue(s, due, today), s == Status::Open && due < today);
            // Never overdue on the day it is due, nor once done.
            prop_assert!(!is_overdue(s, today, today));
            prop_assert!(!is_overdue(Status::Done, due, today));
            // Once overdue, it stays overdue as days pass.
            if is_overdue(s, due, today) {
                prop_assert!(is_overdue(s, due, today + Duration::days(1)));
            }
        }

        #[test]
        fn an_inbox_lists_overdue_open_tasks_first(tasks in prop::collection::vec((status(), date()), 0..30), today in date()) {
            let mut sorted: Vec<(usize, Status, Date)> = tasks.iter().enumerate().map(|(i, t)| (i, t.0, t.1)).collect();
            sorted.sort_by_key(|t| inbox_key(t.1, t.2, t.0 as i64));
            // No open task comes after a done one, and no open task that is not
            // overdue comes before an overdue one.
            for w in sorted.windows(2) {
                prop_assert!(!(w[0].1 == Status::Done && w[1].1 == Status::Open));
                prop_assert!(!(w[0].1 == Status::Open && w[1].1 == Status::Open
                    && !is_overdue(w[0].1, w[0].2, today) && is_overdue(w[1].1, w[1].2, today)));
            }
        }

        #[test]
        fn only_the_assignee_or_their_team_complete(user in 1i64..5, team in prop::option::of(1i64..4),
            au in prop::option::of(1i64..5), at in prop::option::of(1i64..4)) {
            let ok = may_complete(user, team, au, at);
            prop_assert_eq!(ok, au == Some(user) || (at.is_some() && at == team));
            // Nobody in no team completes a task of no one's.
            prop_assert!(!may_complete(user, None, None, None));
        }
    }
}
