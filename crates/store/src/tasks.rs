//! Tasks: every piece of dated work (reviews due, alerts, follow-ups, welcome
//! contacts, transition plans) in one table, assigned to a worker or a team;
//! the inboxes of workers and teams; and a manager's view of their team's
//! caseload. A task's family name is handed to the caller, which shows it
//! only where the policy lets the reader see the family (`web::access`).

use time::Date;

use crate::{Db, Result, on_pool, on_read};

/// A task to add.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub tenant_id: i64,
    pub kind: &'static str,
    pub family_id: Option<i64>,
    pub episode_id: Option<i64>,
    pub assigned_user_id: Option<i64>,
    pub assigned_team_id: Option<i64>,
    pub title: String,
    pub due_on: Date,
    pub created_by_user_id: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Task {
    pub id: i64,
    pub tenant_id: i64,
    pub kind: String,
    pub family_id: Option<i64>,
    pub family_name: Option<String>,
    pub episode_id: Option<i64>,
    pub assigned_user_id: Option<i64>,
    pub assigned_user_name: Option<String>,
    pub assigned_team_id: Option<i64>,
    pub assigned_team_name: Option<String>,
    pub title: String,
    pub due_on: Date,
    pub status: String,
    pub created_by_user_id: Option<i64>,
    pub created_at_ms: i64,
    pub completed_by_user_id: Option<i64>,
    pub completed_at_ms: Option<i64>,
}

/// One worker's share of a team's work.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CaseloadRow {
    pub user_id: i64,
    pub display_name: String,
    /// Families they lead or are in the team around.
    pub families: i64,
    /// Open episodes they lead.
    pub open_episodes: i64,
    pub open_tasks: i64,
    pub overdue_tasks: i64,
}

pub(crate) const TASK_COLUMNS: &str = "t.id, t.tenant_id, t.kind, t.family_id, f.name AS family_name, t.episode_id,
    t.assigned_user_id, u.display_name AS assigned_user_name, t.assigned_team_id, tm.name AS assigned_team_name,
    t.title, t.due_on, t.status, t.created_by_user_id, t.created_at_ms, t.completed_by_user_id, t.completed_at_ms";
pub(crate) const TASK_FROM: &str =
    "tasks t LEFT JOIN families f ON f.id = t.family_id LEFT JOIN users u ON u.id = t.assigned_user_id
    LEFT JOIN teams tm ON tm.id = t.assigned_team_id";
/// Open before done, soonest due first (so overdue first): `domain::task::inbox_key`.
const INBOX_ORDER: &str = "ORDER BY CASE WHEN t.status = 'open' THEN 0 ELSE 1 END, t.due_on, t.id";
/// Who a team's work belongs to: the team itself, or anyone in it.
const TEAM_WORK: &str = "(t.assigned_team_id = $1 OR t.assigned_user_id IN (SELECT id FROM users WHERE team_id = $1))";

impl Db {
    pub async fn add_task(&self, t: &NewTask) -> Result<i64> {
        let (id,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
            "INSERT INTO tasks (tenant_id, kind, family_id, episode_id, assigned_user_id, assigned_team_id, title, due_on,
               status, created_by_user_id, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $10) RETURNING id"
        )
        .bind(t.tenant_id)
        .bind(t.kind)
        .bind(t.family_id)
        .bind(t.episode_id)
        .bind(t.assigned_user_id)
        .bind(t.assigned_team_id)
        .bind(&t.title)
        .bind(t.due_on)
        .bind(t.created_by_user_id)
        .bind(crate::now_ms())
        .fetch_one(p)
        .await
        })?;
        Ok(id)
    }

    pub async fn task(&self, id: i64) -> Result<Option<Task>> {
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {TASK_COLUMNS} FROM {TASK_FROM} WHERE t.id = $1"
        ))
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }

    /// A worker's inbox: the tasks assigned to them, open first and soonest due first.
    pub async fn tasks_of_user(&self, user_id: i64, open_only: bool, limit: i64) -> Result<Vec<Task>> {
        let open = if open_only { "AND t.status = 'open'" } else { "" };
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {TASK_COLUMNS} FROM {TASK_FROM} WHERE t.assigned_user_id = $1 {open} {INBOX_ORDER} LIMIT $2"
        ))
        .bind(user_id)
        .bind(limit)
        .fetch_all(p)
        .await)?)
    }

    /// A team's inbox: tasks assigned to the team or to anyone in it.
    pub async fn tasks_of_team(&self, team_id: i64, open_only: bool, limit: i64) -> Result<Vec<Task>> {
        let open = if open_only { "AND t.status = 'open'" } else { "" };
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT {TASK_COLUMNS} FROM {TASK_FROM} WHERE {TEAM_WORK} {open} {INBOX_ORDER} LIMIT $2"
        ))
        .bind(team_id)
        .bind(limit)
        .fetch_all(p)
        .await)?)
    }

    /// Open tasks about a family, soonest due first.
    pub async fn open_tasks_of_family(&self, family_id: i64) -> Result<Vec<Task>> {
        Ok(on_read!(self, |p| sqlx::query_as(&format!(
            "SELECT {TASK_COLUMNS} FROM {TASK_FROM} WHERE t.family_id = $1 AND t.status = 'open' {INBOX_ORDER}"
        ))
        .bind(family_id)
        .fetch_all(p)
        .await)?)
    }

    /// A tenant's open tasks of one kind: (id, created at), oldest first.
    pub async fn open_tasks_of_kind(&self, tenant_id: i64, kind: &str) -> Result<Vec<(i64, i64)>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id, created_at_ms FROM tasks WHERE tenant_id = $1 AND kind = $2 AND status = 'open' ORDER BY created_at_ms, id"
        )
        .bind(tenant_id)
        .bind(kind)
        .fetch_all(p)
        .await
        })?)
    }

    /// Open tasks past their due date assigned to an organisation's workers or
    /// teams (or, with `team_id`, one team's), most overdue first.
    pub async fn overdue_tasks_of(
        &self,
        organisation_id: i64,
        team_id: Option<i64>,
        today: Date,
        limit: i64,
    ) -> Result<Vec<Task>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(&format!(
            "SELECT {TASK_COLUMNS} FROM {TASK_FROM}
             WHERE t.status = 'open' AND t.due_on < $3
               AND (t.assigned_user_id IN (SELECT id FROM users WHERE organisation_id = $1 AND ($2 IS NULL OR team_id = $2))
                 OR t.assigned_team_id IN (SELECT id FROM teams WHERE organisation_id = $1 AND ($2 IS NULL OR id = $2)))
             {INBOX_ORDER} LIMIT $4"
        ))
        .bind(organisation_id)
        .bind(team_id)
        .bind(today)
        .bind(limit)
        .fetch_all(p)
        .await
        })?)
    }

    /// Marks an open task done; false if it was not open.
    pub async fn complete_task(&self, id: i64, by: i64) -> Result<bool> {
        let n = on_pool!(self, |p| {
            sqlx::query(
            "UPDATE tasks SET status = 'done', completed_by_user_id = $2, completed_at_ms = $3 WHERE id = $1 AND status = 'open'"
        )
        .bind(id)
        .bind(by)
        .bind(crate::now_ms())
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// Marks an episode's open tasks of one kind done (a review replaced by
    /// the next, or the episode closed); returns how many.
    pub async fn complete_episode_tasks(&self, episode_id: i64, kind: &str, by: i64) -> Result<u64> {
        Ok(on_pool!(self, |p| sqlx::query(
            "UPDATE tasks SET status = 'done', completed_by_user_id = $3, completed_at_ms = $4
             WHERE episode_id = $1 AND kind = $2 AND status = 'open'"
        )
        .bind(episode_id)
        .bind(kind)
        .bind(by)
        .bind(crate::now_ms())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?)
    }

    /// Hands an episode's open tasks of one kind to another worker (a new lead
    /// takes over the reviews); returns how many.
    pub async fn reassign_episode_tasks(&self, episode_id: i64, kind: &str, user_id: i64) -> Result<u64> {
        Ok(on_pool!(self, |p| sqlx::query(
            "UPDATE tasks SET assigned_user_id = $3, assigned_team_id = NULL
             WHERE episode_id = $1 AND kind = $2 AND status = 'open'"
        )
        .bind(episode_id)
        .bind(kind)
        .bind(user_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?)
    }

    /// (open, overdue) tasks assigned to a worker.
    pub async fn task_counts(&self, user_id: i64, today: Date) -> Result<(i64, i64)> {
        let (open, overdue): (i64, Option<i64>) = on_pool!(self, |p| sqlx::query_as(
            "SELECT COUNT(*), SUM(CASE WHEN due_on < $2 THEN 1 ELSE 0 END) FROM tasks
             WHERE assigned_user_id = $1 AND status = 'open'"
        )
        .bind(user_id)
        .bind(today)
        .fetch_one(p)
        .await)?;
        Ok((open, overdue.unwrap_or(0)))
    }

    /// Each active practitioner of an organisation (or, with `team_id`, of one
    /// team): how many families they work with, the episodes they lead and
    /// their open and overdue tasks. Counts only: no family is named.
    pub async fn caseload(&self, organisation_id: i64, team_id: Option<i64>, today: Date) -> Result<Vec<CaseloadRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT u.id AS user_id, u.display_name,
               (SELECT COUNT(*) FROM (SELECT family_id FROM team_members WHERE user_id = u.id AND until_date IS NULL
                                      UNION SELECT id FROM families WHERE lead_user_id = u.id) w) AS families,
               (SELECT COUNT(*) FROM episodes WHERE lead_user_id = u.id AND status = 'open') AS open_episodes,
               (SELECT COUNT(*) FROM tasks WHERE assigned_user_id = u.id AND status = 'open') AS open_tasks,
               (SELECT COUNT(*) FROM tasks WHERE assigned_user_id = u.id AND status = 'open' AND due_on < $3) AS overdue_tasks
             FROM users u
             WHERE u.organisation_id = $1 AND ($2 IS NULL OR u.team_id = $2) AND u.active
               AND u.roles LIKE '%practitioner%'
             ORDER BY u.display_name, u.id"
        )
        .bind(organisation_id)
        .bind(team_id)
        .bind(today)
        .fetch_all(p)
        .await
        })?)
    }
}
