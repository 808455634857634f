//! Transitions (F19): the young people approaching 18 and the Year 6 children
//! of families with open work, the services involved with their families, and
//! each young person's one transition-plan task. Lists are narrowed by
//! `Db::visible_condition` when a reader is given; callers re-check every
//! row with the policy. Which dates count is `kindred_domain::transition`.

use std::collections::BTreeMap;

use kindred_domain::access::Subject;
use kindred_domain::{dates, transition};
use time::Date;

use crate::tasks::{TASK_COLUMNS, TASK_FROM, Task};
use crate::{Db, Result, on_pool};

/// The most rows a transition list reads.
pub const LIST_LIMIT: i64 = 2_000;

/// A young person who is a current member of a family with open work.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct YoungPerson {
    pub person_id: i64,
    pub tenant_id: i64,
    pub given_name: String,
    pub surname: String,
    pub date_of_birth: Date,
    pub family_id: i64,
    pub family_name: String,
}

/// Which open work makes a family count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenWork {
    /// An open involvement only.
    Involvement,
    /// An open involvement or an open episode.
    InvolvementOrEpisode,
}

#[derive(sqlx::FromRow)]
struct TaskOfPerson {
    person_id: i64,
    #[sqlx(flatten)]
    task: Task,
}

impl Db {
    /// Current members of a tenant's families with open work, born between
    /// `born_from` and `born_to` (both included), oldest first; with `reader`,
    /// only in families the SQL mirror of the policy lets them see.
    pub async fn transition_candidates(
        &self,
        tenant_id: i64,
        reader: Option<&Subject>,
        born_from: Date,
        born_to: Date,
        work: OpenWork,
    ) -> Result<Vec<YoungPerson>> {
        self.candidates(tenant_id, reader, born_from, born_to, work, false)
            .await
    }

    /// As `transition_candidates`; with `without_task`, only those with no
    /// transition-plan task, so a tenant with more than a list's worth is
    /// still worked through.
    async fn candidates(
        &self,
        tenant_id: i64,
        reader: Option<&Subject>,
        born_from: Date,
        born_to: Date,
        work: OpenWork,
        without_task: bool,
    ) -> Result<Vec<YoungPerson>> {
        let cond = match reader {
            Some(s) => self.visible_condition(s).await?,
            None => "1 = 1".into(),
        };
        let without = if without_task {
            "AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.person_id = p.id AND t.kind = 'transition_plan')"
        } else {
            ""
        };
        let episode = match work {
            OpenWork::Involvement => "",
            OpenWork::InvolvementOrEpisode => {
                "OR EXISTS (SELECT 1 FROM episodes e WHERE e.family_id = f.id AND e.status = 'open')"
            }
        };
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT p.id AS person_id, f.tenant_id, p.given_name, p.family_name AS surname, p.date_of_birth,
                    f.id AS family_id, f.name AS family_name
             FROM persons p JOIN family_members m ON m.person_id = p.id AND m.left_on IS NULL
             JOIN families f ON f.id = m.family_id
             WHERE f.tenant_id = $1 AND p.tenant_id = $1 AND {cond}
               AND p.date_of_birth IS NOT NULL AND p.date_of_birth >= $2 AND p.date_of_birth <= $3
               AND (EXISTS (SELECT 1 FROM involvements i WHERE i.family_id = f.id AND i.ended_on IS NULL) {episode})
               {without}
             ORDER BY p.date_of_birth, p.id, f.id LIMIT $4"
        ))
        .bind(tenant_id)
        .bind(born_from)
        .bind(born_to)
        .bind(LIST_LIMIT)
        .fetch_all(p)
        .await)?)
    }

    /// The young people of a tenant approaching 18 on `today` in families with
    /// an open involvement or episode (`transition::approaching_18`).
    pub async fn approaching_18(
        &self,
        tenant_id: i64,
        reader: Option<&Subject>,
        today: Date,
    ) -> Result<Vec<YoungPerson>> {
        let (from, to) = transition::approaching_18_birth_window(today);
        let mut rows = self
            .transition_candidates(tenant_id, reader, from, to, OpenWork::InvolvementOrEpisode)
            .await?;
        rows.retain(|r| transition::approaching_18(r.date_of_birth, today));
        Ok(rows)
    }

    /// The children of a tenant in Year 6 in the academic year of `today`, in
    /// families with an open involvement.
    pub async fn year_6(&self, tenant_id: i64, reader: Option<&Subject>, today: Date) -> Result<Vec<YoungPerson>> {
        let (from, to) = transition::year_6_birth_window(today);
        let mut rows = self
            .transition_candidates(tenant_id, reader, from, to, OpenWork::Involvement)
            .await?;
        rows.retain(|r| transition::school_year(r.date_of_birth, today) == Some(6));
        Ok(rows)
    }

    /// The organisations with an open involvement in each family, by name.
    pub async fn services_involved(&self, family_ids: &[i64]) -> Result<BTreeMap<i64, Vec<String>>> {
        let mut out: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        if family_ids.is_empty() {
            return Ok(out);
        }
        let list = family_ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        let rows: Vec<(i64, String)> = on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT DISTINCT i.family_id, o.name FROM involvements i JOIN organisations o ON o.id = i.organisation_id
             WHERE i.family_id IN ({list}) AND i.ended_on IS NULL ORDER BY i.family_id, o.name"
        ))
        .fetch_all(p)
        .await)?;
        for (f, name) in rows {
            out.entry(f).or_default().push(name);
        }
        Ok(out)
    }

    /// Each young person's transition-plan task, open or done.
    pub async fn transition_tasks(&self, person_ids: &[i64]) -> Result<BTreeMap<i64, Task>> {
        if person_ids.is_empty() {
            return Ok(BTreeMap::new());
        }
        let list = person_ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        let rows: Vec<TaskOfPerson> = on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT t.person_id, {TASK_COLUMNS} FROM {TASK_FROM}
             WHERE t.kind = 'transition_plan' AND t.person_id IN ({list})"
        ))
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(|r| (r.person_id, r.task)).collect())
    }

    /// Makes the transition-plan task of each young person who has none, for
    /// the family's lead professional (or, without one, the first of its team),
    /// due three months before they turn 18 (`transition::plan_due`). A young
    /// person whose family has no one to assign it to is left for later.
    /// Returns how many tasks were made; running it again makes none.
    pub async fn create_transition_plans(
        &self,
        people: &[YoungPerson],
        today: Date,
        created_by_user_id: Option<i64>,
    ) -> Result<u64> {
        let mut made = 0;
        for yp in people {
            let Some(turns_18) = transition::turns_18(yp.date_of_birth) else {
                continue;
            };
            let assignee = match self.family_lead(yp.family_id).await? {
                Some(lead) => lead,
                None => {
                    let first: Option<(i64,)> = on_pool!(self, |p| sqlx::query_as(
                        "SELECT user_id FROM team_members WHERE family_id = $1 AND until_date IS NULL
                         ORDER BY since, id LIMIT 1"
                    )
                    .bind(yp.family_id)
                    .fetch_optional(p)
                    .await)?;
                    match first {
                        Some((id,)) => id,
                        None => continue,
                    }
                }
            };
            let title = format!(
                "Plan {}'s move to adult services (18 on {})",
                yp.given_name,
                dates::long(turns_18)
            );
            let done = on_pool!(self, |p| sqlx::query(
                "INSERT INTO tasks (tenant_id, kind, family_id, person_id, assigned_user_id, title, due_on, status,
                   created_by_user_id, created_at_ms)
                 VALUES ($1, 'transition_plan', $2, $3, $4, $5, $6, 'open', $7, $8)
                 ON CONFLICT (person_id) WHERE kind = 'transition_plan' DO NOTHING"
            )
            .bind(yp.tenant_id)
            .bind(yp.family_id)
            .bind(yp.person_id)
            .bind(assignee)
            .bind(&title)
            .bind(transition::plan_due(turns_18, today))
            .bind(created_by_user_id)
            .bind(crate::now_ms())
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
            made += done;
        }
        Ok(made)
    }

    async fn family_lead(&self, family_id: i64) -> Result<Option<i64>> {
        let row: Option<(Option<i64>,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT lead_user_id FROM families WHERE id = $1"
        )
        .bind(family_id)
        .fetch_optional(p)
        .await)?;
        Ok(row.and_then(|r| r.0))
    }

    /// Makes the missing transition-plan tasks of every tenant's young people
    /// approaching 18 (the `kindred transitions` command). Returns how many.
    pub async fn create_all_transition_plans(&self, today: Date) -> Result<u64> {
        let (from, to) = transition::approaching_18_birth_window(today);
        let mut made = 0;
        for t in self.tenants().await? {
            // A list at a time, until a list makes nothing more (the rest have
            // no one to assign their task to).
            loop {
                let mut people = self
                    .candidates(t.id, None, from, to, OpenWork::InvolvementOrEpisode, true)
                    .await?;
                people.retain(|r| transition::approaching_18(r.date_of_birth, today));
                let n = self.create_transition_plans(&people, today, None).await?;
                made += n;
                if n == 0 {
                    break;
                }
            }
        }
        Ok(made)
    }
}
