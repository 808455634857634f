//! The family plan: goals, actions, comments, reviews, and a version per
//! change. Each change and the version that records it commit together, so
//! the history never misses a change or shows one that did not happen.

use kindred_domain::plan::{ActionStatus, GoalStatus, Owner};
use serde::{Deserialize, Serialize};
use time::Date;

use crate::BeginWrite;
use crate::{Db, Result, StoreError, on_pool};

/// Who made a change: a worker, or a family member in the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    User(i64),
    Person(i64),
}

impl Author {
    fn columns(self) -> (Option<i64>, Option<i64>) {
        match self {
            Author::User(u) => (Some(u), None),
            Author::Person(p) => (None, Some(p)),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewGoal {
    pub tenant_id: i64,
    pub family_id: i64,
    /// An assessment area code, or empty.
    pub area: String,
    pub words: String,
    pub baseline_score: Option<u8>,
    pub shared_with_family: bool,
    pub by_user: i64,
}

#[derive(Debug, Clone)]
pub struct NewAction {
    pub tenant_id: i64,
    pub family_id: i64,
    pub goal_id: i64,
    pub description: String,
    pub owner: Owner,
    pub due_on: Date,
    pub shared_with_family: bool,
    pub by_user: i64,
}

#[derive(Debug, Clone)]
pub struct NewReview {
    pub tenant_id: i64,
    pub family_id: i64,
    pub reviewed_on: Date,
    pub by_user: i64,
    pub summary: String,
    pub next_review_on: Option<Date>,
    /// (goal id, score 1–10)
    pub scores: Vec<(i64, u8)>,
    /// Goals the review closes: (goal id, achieved or dropped).
    pub goal_statuses: Vec<(i64, GoalStatus)>,
}

#[derive(Debug, Clone)]
pub struct Goal {
    pub id: i64,
    pub area: String,
    pub words: String,
    pub baseline_score: Option<u8>,
    /// The score at the latest review that scored this goal.
    pub latest_score: Option<u8>,
    pub status: GoalStatus,
    pub shared_with_family: bool,
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone)]
pub struct Action {
    pub id: i64,
    pub goal_id: i64,
    pub description: String,
    pub owner: Option<Owner>,
    pub owner_name: String,
    pub due_on: Date,
    pub status: ActionStatus,
    pub shared_with_family: bool,
    pub completed_on: Option<Date>,
}

#[derive(Debug, Clone)]
pub struct Review {
    pub id: i64,
    pub reviewed_on: Date,
    pub author_name: String,
    pub summary: String,
    pub next_review_on: Option<Date>,
    pub scores: Vec<(i64, u8)>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Comment {
    pub id: i64,
    pub action_id: i64,
    pub author_name: String,
    /// Written by a family member in the portal.
    pub by_family: bool,
    pub body: String,
    pub progress: Option<String>,
    pub created_at_ms: i64,
}

/// A family's plan: goals with their actions, oldest first, and its reviews.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub goals: Vec<Goal>,
    pub reviews: Vec<Review>,
    pub version: i64,
}

/// One entry in a plan's history.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Version {
    pub version: i64,
    pub at_ms: i64,
    pub author_name: String,
    pub summary: String,
}

/// The plan as it stood at a version, as recorded then.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Snapshot {
    pub goals: Vec<SnapshotGoal>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SnapshotGoal {
    pub id: i64,
    pub area: String,
    pub words: String,
    pub status: String,
    pub shared_with_family: bool,
    pub actions: Vec<SnapshotAction>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SnapshotAction {
    pub id: i64,
    pub description: String,
    /// `user:1`, `org:2` or `person:3`.
    pub owner: String,
    pub due_on: String,
    pub status: String,
    pub shared_with_family: bool,
}

/// An open action past its due date, for its owner's list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OverdueAction {
    pub id: i64,
    pub family_id: i64,
    pub family_name: String,
    pub description: String,
    pub due_on: Date,
    pub status: String,
}

type ActionRow = (
    i64,
    i64,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Date,
    String,
    bool,
);

fn snapshot(goals: Vec<(i64, String, String, String, bool)>, actions: Vec<ActionRow>) -> Snapshot {
    Snapshot {
        goals: goals
            .into_iter()
            .map(|(id, area, words, status, shared)| SnapshotGoal {
                id,
                area,
                words,
                status,
                shared_with_family: shared,
                actions: actions
                    .iter()
                    .filter(|a| a.1 == id)
                    .map(|a| SnapshotAction {
                        id: a.0,
                        description: a.2.clone(),
                        owner: Owner::from_columns(a.3, a.4, a.5)
                            .map(Owner::form_value)
                            .unwrap_or_default(),
                        due_on: a.6.to_string(),
                        status: a.7.clone(),
                        shared_with_family: a.8,
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// Inside an open transaction `$tx`: records the plan of `$family` as it now
/// stands as its next version.
macro_rules! record_version {
    ($tx:ident, $family:expr, $author:expr, $summary:expr) => {{
        let family: i64 = $family;
        let goals: Vec<(i64, String, String, String, bool)> = sqlx::query_as(
            "SELECT id, area, words, status, shared_with_family FROM plan_goals WHERE family_id = $1 ORDER BY id",
        )
        .bind(family)
        .fetch_all(&mut *$tx)
        .await?;
        let actions: Vec<ActionRow> = sqlx::query_as(
            "SELECT id, goal_id, description, owner_user_id, owner_organisation_id, owner_person_id, due_on, status,
               shared_with_family FROM plan_actions WHERE family_id = $1 ORDER BY id",
        )
        .bind(family)
        .fetch_all(&mut *$tx)
        .await?;
        let snap = serde_json::to_string(&snapshot(goals, actions)).unwrap_or_default();
        let (version,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(version), 0) + 1 FROM plan_versions WHERE family_id = $1")
                .bind(family)
                .fetch_one(&mut *$tx)
                .await?;
        let (user, person) = Author::columns($author);
        sqlx::query(
            "INSERT INTO plan_versions (family_id, version, at_ms, author_user_id, author_person_id, summary, snapshot)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(family)
        .bind(version)
        .bind(crate::now_ms())
        .bind(user)
        .bind(person)
        .bind($summary)
        .bind(snap)
        .execute(&mut *$tx)
        .await?;
        sqlx::query("UPDATE families SET updated_at_ms = $1 WHERE id = $2")
            .bind(crate::now_ms())
            .bind(family)
            .execute(&mut *$tx)
            .await?;
    }};
}

impl Db {
    pub async fn add_plan_goal(&self, g: &NewGoal) -> Result<i64> {
        let summary = "Added a goal";
        let id = on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO plan_goals (tenant_id, family_id, area, words, baseline_score, shared_with_family,
                   created_by_user_id, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(g.tenant_id)
            .bind(g.family_id)
            .bind(&g.area)
            .bind(&g.words)
            .bind(g.baseline_score.map(i32::from))
            .bind(g.shared_with_family)
            .bind(g.by_user)
            .bind(crate::now_ms())
            .fetch_one(&mut *tx)
            .await?;
            record_version!(tx, g.family_id, Author::User(g.by_user), summary);
            tx.commit().await?;
            Ok::<_, sqlx::Error>(id)
        })?;
        Ok(id)
    }

    /// Adds an action to a goal of the same family (`NotFound` otherwise).
    pub async fn add_plan_action(&self, a: &NewAction) -> Result<i64> {
        let (user, org, person) = a.owner.columns();
        let now = crate::now_ms();
        let id = on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO plan_actions (tenant_id, family_id, goal_id, description, owner_user_id,
                   owner_organisation_id, owner_person_id, due_on, status, shared_with_family, created_by_user_id,
                   created_at_ms, updated_at_ms)
                 SELECT $1, $2, g.id, $4, $5, $6, $7, $8, 'not_started', $9, $10, $11, $11
                 FROM plan_goals g WHERE g.id = $3 AND g.family_id = $2 RETURNING id",
            )
            .bind(a.tenant_id)
            .bind(a.family_id)
            .bind(a.goal_id)
            .bind(&a.description)
            .bind(user)
            .bind(org)
            .bind(person)
            .bind(a.due_on)
            .bind(a.shared_with_family)
            .bind(a.by_user)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            record_version!(tx, a.family_id, Author::User(a.by_user), "Added an action");
            tx.commit().await?;
            Ok::<_, sqlx::Error>(id)
        })?;
        Ok(id)
    }

    /// Changes an action's status, with an optional comment saying why.
    pub async fn set_action_status(
        &self,
        family_id: i64,
        action_id: i64,
        status: ActionStatus,
        by: Author,
        comment: &str,
        today: Date,
    ) -> Result<()> {
        let summary = format!("Action marked \u{201c}{}\u{201d}", status.label().to_lowercase());
        let completed = (status == ActionStatus::Done).then_some(today);
        let (user, person) = by.columns();
        let now = crate::now_ms();
        on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let changed = sqlx::query(
                "UPDATE plan_actions SET status = $1, completed_on = $2, updated_at_ms = $3
                 WHERE id = $4 AND family_id = $5",
            )
            .bind(status.code())
            .bind(completed)
            .bind(now)
            .bind(action_id)
            .bind(family_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query(
                "INSERT INTO plan_comments (family_id, action_id, author_user_id, author_person_id, body, progress,
                   created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(family_id)
            .bind(action_id)
            .bind(user)
            .bind(person)
            .bind(comment)
            .bind(status.code())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            record_version!(tx, family_id, by, &summary);
            tx.commit().await
        })?;
        Ok(())
    }

    /// A comment on an action of `family_id` (`NotFound` otherwise).
    pub async fn add_plan_comment(&self, family_id: i64, action_id: i64, by: Author, body: &str) -> Result<i64> {
        let (user, person) = by.columns();
        let row: Option<(i64,)> = on_pool!(self, |p| {
            sqlx::query_as(
            "INSERT INTO plan_comments (family_id, action_id, author_user_id, author_person_id, body, created_at_ms)
             SELECT a.family_id, a.id, $3, $4, $5, $6 FROM plan_actions a WHERE a.id = $2 AND a.family_id = $1
             RETURNING id"
        )
        .bind(family_id)
        .bind(action_id)
        .bind(user)
        .bind(person)
        .bind(body)
        .bind(crate::now_ms())
        .fetch_optional(p)
        .await
        })?;
        row.map(|r| r.0).ok_or(StoreError::NotFound)
    }

    pub async fn set_goal_status(&self, family_id: i64, goal_id: i64, status: GoalStatus, by_user: i64) -> Result<()> {
        let summary = format!("Goal marked \u{201c}{}\u{201d}", status.label().to_lowercase());
        on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let changed = sqlx::query("UPDATE plan_goals SET status = $1 WHERE id = $2 AND family_id = $3")
                .bind(status.code())
                .bind(goal_id)
                .bind(family_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            record_version!(tx, family_id, Author::User(by_user), &summary);
            tx.commit().await
        })?;
        Ok(())
    }

    /// A review of the plan, re-scoring its goals and closing those it says
    /// are achieved or dropped: one transaction, one version. Goals of other
    /// families are ignored.
    pub async fn add_plan_review(&self, r: &NewReview) -> Result<i64> {
        let id = on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO plan_reviews (tenant_id, family_id, reviewed_on, author_user_id, summary, next_review_on,
                   created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(r.tenant_id)
            .bind(r.family_id)
            .bind(r.reviewed_on)
            .bind(r.by_user)
            .bind(&r.summary)
            .bind(r.next_review_on)
            .bind(crate::now_ms())
            .fetch_one(&mut *tx)
            .await?;
            for (goal, score) in &r.scores {
                sqlx::query(
                    "INSERT INTO plan_review_scores (review_id, goal_id, score)
                     SELECT $1, g.id, $3 FROM plan_goals g WHERE g.id = $2 AND g.family_id = $4",
                )
                .bind(id)
                .bind(goal)
                .bind(i32::from(*score))
                .bind(r.family_id)
                .execute(&mut *tx)
                .await?;
            }
            for (goal, status) in &r.goal_statuses {
                sqlx::query("UPDATE plan_goals SET status = $1 WHERE id = $2 AND family_id = $3")
                    .bind(status.code())
                    .bind(goal)
                    .bind(r.family_id)
                    .execute(&mut *tx)
                    .await?;
            }
            record_version!(tx, r.family_id, Author::User(r.by_user), "Reviewed the plan");
            tx.commit().await?;
            Ok::<_, sqlx::Error>(id)
        })?;
        Ok(id)
    }

    /// The family's plan as it stands, with owners' names and each goal's latest score.
    pub async fn plan_of_family(&self, family_id: i64) -> Result<Plan> {
        type GoalRow = (i64, String, String, Option<i32>, String, bool);
        let goals: Vec<GoalRow> = on_pool!(self, |p| sqlx::query_as(
            "SELECT id, area, words, baseline_score, status, shared_with_family FROM plan_goals
             WHERE family_id = $1 ORDER BY id"
        )
        .bind(family_id)
        .fetch_all(p)
        .await)?;
        type Row = (
            i64,
            i64,
            String,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Date,
            String,
            bool,
            Option<Date>,
            Option<String>,
        );
        let actions: Vec<Row> = on_pool!(self, |p| sqlx::query_as(
            "SELECT a.id, a.goal_id, a.description, a.owner_user_id, a.owner_organisation_id, a.owner_person_id,
               a.due_on, a.status, a.shared_with_family, a.completed_on,
               COALESCE(u.display_name, o.name, COALESCE(pp.preferred_name, pp.given_name) || ' ' || pp.family_name)
             FROM plan_actions a
             LEFT JOIN users u ON u.id = a.owner_user_id
             LEFT JOIN organisations o ON o.id = a.owner_organisation_id
             LEFT JOIN persons pp ON pp.id = a.owner_person_id
             WHERE a.family_id = $1 ORDER BY a.due_on, a.id"
        )
        .bind(family_id)
        .fetch_all(p)
        .await)?;
        let reviews: Vec<(i64, Date, String, String, Option<Date>)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT r.id, r.reviewed_on, u.display_name, r.summary, r.next_review_on FROM plan_reviews r
             JOIN users u ON u.id = r.author_user_id WHERE r.family_id = $1 ORDER BY r.reviewed_on, r.id"
        )
        .bind(family_id)
        .fetch_all(p)
        .await)?;
        let scores: Vec<(i64, i64, i32)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT s.review_id, s.goal_id, s.score FROM plan_review_scores s
             JOIN plan_reviews r ON r.id = s.review_id WHERE r.family_id = $1"
        )
        .bind(family_id)
        .fetch_all(p)
        .await)?;
        let (version,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "SELECT COALESCE(MAX(version), 0) FROM plan_versions WHERE family_id = $1"
        )
        .bind(family_id)
        .fetch_one(p)
        .await)?;
        let reviews: Vec<Review> = reviews
            .into_iter()
            .map(|(id, reviewed_on, author_name, summary, next_review_on)| Review {
                id,
                reviewed_on,
                author_name,
                summary,
                next_review_on,
                scores: scores
                    .iter()
                    .filter(|s| s.0 == id)
                    .map(|s| (s.1, u8::try_from(s.2).unwrap_or(0)))
                    .collect(),
            })
            .collect();
        let score = |v: i32| u8::try_from(v).ok();
        let goals = goals
            .into_iter()
            .map(|(id, area, words, baseline, status, shared)| Goal {
                id,
                area,
                words,
                baseline_score: baseline.and_then(score),
                latest_score: reviews
                    .iter()
                    .rev()
                    .find_map(|r| r.scores.iter().find(|s| s.0 == id).map(|s| s.1)),
                status: GoalStatus::parse(&status).unwrap_or(GoalStatus::Active),
                shared_with_family: shared,
                actions: actions
                    .iter()
                    .filter(|a| a.1 == id)
                    .map(|a| Action {
                        id: a.0,
                        goal_id: a.1,
                        description: a.2.clone(),
                        owner: Owner::from_columns(a.3, a.4, a.5),
                        owner_name: a.10.clone().unwrap_or_default(),
                        due_on: a.6,
                        status: ActionStatus::parse(&a.7).unwrap_or(ActionStatus::NotStarted),
                        shared_with_family: a.8,
                        completed_on: a.9,
                    })
                    .collect(),
            })
            .collect();
        Ok(Plan {
            goals,
            reviews,
            version,
        })
    }

    /// Comments on the family's plan actions, oldest first, with who wrote them.
    pub async fn plan_comments(&self, family_id: i64) -> Result<Vec<Comment>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, Comment>(
            "SELECT c.id, c.action_id,
               COALESCE(u.display_name, COALESCE(pp.preferred_name, pp.given_name) || ' ' || pp.family_name, '')
                 AS author_name,
               c.author_person_id IS NOT NULL AS by_family, c.body, c.progress, c.created_at_ms
             FROM plan_comments c LEFT JOIN users u ON u.id = c.author_user_id
             LEFT JOIN persons pp ON pp.id = c.author_person_id
             WHERE c.family_id = $1 ORDER BY c.id"
        )
        .bind(family_id)
        .fetch_all(p)
        .await)?)
    }

    /// The plan's history, newest first.
    pub async fn plan_versions(&self, family_id: i64) -> Result<Vec<Version>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, Version>(
            "SELECT v.version, v.at_ms,
               COALESCE(u.display_name, COALESCE(pp.preferred_name, pp.given_name) || ' ' || pp.family_name, '')
                 AS author_name, v.summary
             FROM plan_versions v LEFT JOIN users u ON u.id = v.author_user_id
             LEFT JOIN persons pp ON pp.id = v.author_person_id
             WHERE v.family_id = $1 ORDER BY v.version DESC"
        )
        .bind(family_id)
        .fetch_all(p)
        .await)?)
    }

    /// The plan as it stood at `version`.
    pub async fn plan_version(&self, family_id: i64, version: i64) -> Result<Option<Snapshot>> {
        let row: Option<(String,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT snapshot FROM plan_versions WHERE family_id = $1 AND version = $2"
        )
        .bind(family_id)
        .bind(version)
        .fetch_optional(p)
        .await)?;
        Ok(row.and_then(|(s,)| serde_json::from_str(&s).ok()))
    }

    /// Open actions owned by `user_id` that were due before `today`, most overdue first.
    pub async fn overdue_actions(&self, user_id: i64, today: Date) -> Result<Vec<OverdueAction>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, OverdueAction>(
            "SELECT a.id, a.family_id, f.name AS family_name, a.description, a.due_on, a.status
             FROM plan_actions a JOIN families f ON f.id = a.family_id
             WHERE a.owner_user_id = $1 AND a.status IN ('not_started', 'in_progress') AND a.due_on < $2
             ORDER BY a.due_on, a.id LIMIT 200"
        )
        .bind(user_id)
        .bind(today)
        .fetch_all(p)
        .await)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_puts_actions_under_their_goals() {
        let d = Date::from_calendar_date(2026, time::Month::March, 1).unwrap();
        let s = snapshot(
            vec![(1, "housing".into(), "A settled home".into(), "active".into(), true)],
            vec![
                (
                    7,
                    1,
                    "Call the landlord".into(),
                    None,
                    None,
                    Some(4),
                    d,
                    "done".into(),
                    true,
                ),
                (
                    8,
                    2,
                    "Elsewhere".into(),
                    Some(3),
                    None,
                    None,
                    d,
                    "not_started".into(),
                    false,
                ),
            ],
        );
        assert_eq!(s.goals.len(), 1);
        assert_eq!(s.goals[0].actions.len(), 1);
        assert_eq!(s.goals[0].actions[0].owner, "person:4");
        assert_eq!(s.goals[0].actions[0].due_on, "2026-03-01");
    }
}
