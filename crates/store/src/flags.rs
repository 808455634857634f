//! Flags (F13): facts every partner with any access to a family must see — a
//! child protection enquiry, a looked-after child, a young carer — raised on a
//! member or on the whole family, and ended. Alert rules: when a flag of one
//! kind is raised, each organisation of a given kind with an open involvement
//! with the family gets an alert task, once per flag.

use time::{Date, Weekday};

use crate::BeginWrite;
use crate::families::Actor;
use crate::tasks::NewTask;
use crate::{Db, Result, on_pool, on_read};

/// A flag to raise.
#[derive(Debug, Clone)]
pub struct NewFlag {
    pub tenant_id: i64,
    pub family_id: i64,
    /// The member it is about, or none for the whole family.
    pub person_id: Option<i64>,
    pub kind: String,
    pub description: String,
    pub raised_by_user_id: i64,
    pub raised_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Flag {
    pub id: i64,
    pub tenant_id: i64,
    pub family_id: i64,
    pub person_id: Option<i64>,
    pub person_name: Option<String>,
    pub kind: String,
    pub description: String,
    pub raised_by_user_id: Option<i64>,
    pub raised_by_name: Option<String>,
    pub organisation_name: Option<String>,
    pub raised_on: Date,
    pub ended_on: Option<Date>,
    pub ended_by_user_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AlertRule {
    pub id: i64,
    pub tenant_id: i64,
    pub trigger_flag: String,
    pub involved_org_kind: String,
    pub task_title: String,
    pub created_by_user_id: i64,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone)]
pub struct NewAlertRule {
    pub tenant_id: i64,
    pub trigger_flag: String,
    pub involved_org_kind: String,
    pub task_title: String,
    pub created_by_user_id: i64,
}

const FLAG_COLUMNS: &str = "fl.id, fl.tenant_id, fl.family_id, fl.person_id,
    CASE WHEN pe.id IS NULL THEN NULL ELSE pe.given_name || ' ' || pe.family_name END AS person_name,
    fl.kind, fl.description, fl.raised_by_user_id, u.display_name AS raised_by_name, o.name AS organisation_name,
    fl.raised_on, fl.ended_on, fl.ended_by_user_id";
pub(crate) const INSERT_FLAG: &str =
    "INSERT INTO flags (tenant_id, family_id, person_id, kind, description, raised_by_user_id, raised_on)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
const FLAG_FROM: &str = "flags fl LEFT JOIN persons pe ON pe.id = fl.person_id
    LEFT JOIN users u ON u.id = fl.raised_by_user_id LEFT JOIN organisations o ON o.id = u.organisation_id";

/// `on` plus `n` working days (Monday to Friday).
pub fn working_days_after(on: Date, n: u32) -> Date {
    let mut d = on;
    let mut left = n;
    while left > 0 {
        d = d.next_day().unwrap_or(d);
        if !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) {
            left -= 1;
        }
    }
    d
}

impl Db {
    /// Raises a flag; returns its id. Alerts are raised separately
    /// ([`Db::raise_alerts`]); [`Db::raise_flag_with_alerts`] does both, and
    /// the audit event, in one transaction.
    pub async fn raise_flag(&self, f: &NewFlag) -> Result<i64> {
        self.add_flag(
            f.tenant_id,
            f.family_id,
            f.person_id,
            &f.kind,
            f.description.trim(),
            Some(f.raised_by_user_id),
            f.raised_on,
        )
        .await
    }

    /// Ends an open flag; whether it was open.
    pub async fn end_flag(&self, flag_id: i64, by_user_id: i64, on: Date) -> Result<bool> {
        let n = on_pool!(self, |p| sqlx::query(
            "UPDATE flags SET ended_on = $2, ended_by_user_id = $3 WHERE id = $1 AND ended_on IS NULL"
        )
        .bind(flag_id)
        .bind(on)
        .bind(by_user_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    pub async fn flag(&self, id: i64) -> Result<Option<Flag>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, Flag>(&format!(
            "SELECT {FLAG_COLUMNS} FROM {FLAG_FROM} WHERE fl.id = $1"
        ))
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }

    /// A family's open flags, on members or on the whole family, newest first.
    pub async fn open_flags_of_family(&self, family_id: i64) -> Result<Vec<Flag>> {
        Ok(on_read!(self, |p| sqlx::query_as::<_, Flag>(&format!(
            "SELECT {FLAG_COLUMNS} FROM {FLAG_FROM} WHERE fl.family_id = $1 AND fl.ended_on IS NULL
             ORDER BY fl.raised_on DESC, fl.id DESC"
        ))
        .bind(family_id)
        .fetch_all(p)
        .await)?)
    }

    /// The open flags about a person: on them, or on a family they are a
    /// current member of as a whole. Each carries its family, for the caller
    /// to keep only those of families the reader may see.
    pub async fn open_flags_of_person(&self, person_id: i64) -> Result<Vec<Flag>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, Flag>(&format!(
            "SELECT {FLAG_COLUMNS} FROM {FLAG_FROM} WHERE fl.ended_on IS NULL AND (fl.person_id = $1
               OR (fl.person_id IS NULL AND fl.family_id IN
                   (SELECT family_id FROM family_members WHERE person_id = $1 AND left_on IS NULL)))
             ORDER BY fl.raised_on DESC, fl.id DESC"
        ))
        .bind(person_id)
        .fetch_all(p)
        .await)?)
    }

    pub async fn alert_rules(&self, tenant_id: i64) -> Result<Vec<AlertRule>> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, AlertRule>(
            "SELECT id, tenant_id, trigger_flag, involved_org_kind, task_title, created_by_user_id, created_at_ms
             FROM alert_rules WHERE tenant_id = $1 ORDER BY trigger_flag, involved_org_kind, id"
        )
        .bind(tenant_id)
        .fetch_all(p)
        .await)?)
    }

    pub async fn add_alert_rule(&self, r: &NewAlertRule) -> Result<i64> {
        let (id,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
            "INSERT INTO alert_rules (tenant_id, trigger_flag, involved_org_kind, task_title, created_by_user_id, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"
        )
        .bind(r.tenant_id)
        .bind(&r.trigger_flag)
        .bind(&r.involved_org_kind)
        .bind(r.task_title.trim())
        .bind(r.created_by_user_id)
        .bind(crate::now_ms())
        .fetch_one(p)
        .await
        })?;
        Ok(id)
    }

    /// Deletes a rule of the tenant; whether there was one.
    pub async fn delete_alert_rule(&self, tenant_id: i64, id: i64) -> Result<bool> {
        let n = on_pool!(self, |p| sqlx::query(
            "DELETE FROM alert_rules WHERE id = $1 AND tenant_id = $2"
        )
        .bind(id)
        .bind(tenant_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Who in an organisation gets an alert about a family: its first worker
    /// in the team around the family, else an active manager of the
    /// organisation, else a team of the organisation. (user, team)
    async fn alert_assignee(&self, family_id: i64, organisation_id: i64) -> Result<Option<(Option<i64>, Option<i64>)>> {
        let worker: Option<(i64,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT tm.user_id FROM team_members tm JOIN users u ON u.id = tm.user_id
             WHERE tm.family_id = $1 AND tm.until_date IS NULL AND u.organisation_id = $2 AND u.active
             ORDER BY tm.since, tm.id LIMIT 1"
        )
        .bind(family_id)
        .bind(organisation_id)
        .fetch_optional(p)
        .await)?;
        if let Some((u,)) = worker {
            return Ok(Some((Some(u), None)));
        }
        let manager: Option<(i64,)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id FROM users WHERE organisation_id = $1 AND active AND (',' || roles || ',') LIKE '%,manager,%'
             ORDER BY id LIMIT 1"
        )
        .bind(organisation_id)
        .fetch_optional(p)
        .await
        })?;
        if let Some((u,)) = manager {
            return Ok(Some((Some(u), None)));
        }
        let team: Option<(i64,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT id FROM teams WHERE organisation_id = $1 ORDER BY id LIMIT 1"
        )
        .bind(organisation_id)
        .fetch_optional(p)
        .await)?;
        Ok(team.map(|(t,)| (None, Some(t))))
    }

    /// The alert tasks a flag of `kind` on `family_id` calls for under the
    /// tenant's alert rules: for each rule on that kind and each organisation
    /// of the rule's kind with an open involvement with the family, the task
    /// for that organisation (its worker in the team around the family, else
    /// its first manager, else its first team), due in two working days; one
    /// per organisation, from the first rule that names its kind.
    async fn alert_plan(
        &self,
        tenant_id: i64,
        family_id: i64,
        kind: &str,
        raised_by_user_id: Option<i64>,
        today: Date,
    ) -> Result<Vec<(i64, NewTask)>> {
        let rules: Vec<AlertRule> = self
            .alert_rules(tenant_id)
            .await?
            .into_iter()
            .filter(|r| r.trigger_flag == kind)
            .collect();
        let mut plan = vec![];
        for rule in rules {
            let orgs: Vec<(i64,)> = on_pool!(self, |p| {
                sqlx::query_as(
                "SELECT DISTINCT i.organisation_id FROM involvements i JOIN organisations o ON o.id = i.organisation_id
                 WHERE i.family_id = $1 AND i.ended_on IS NULL AND o.kind = $2 AND o.tenant_id = $3
                 ORDER BY i.organisation_id"
            )
            .bind(family_id)
            .bind(&rule.involved_org_kind)
            .bind(tenant_id)
            .fetch_all(p)
            .await
            })?;
            for (org,) in orgs {
                // One alert per organisation: the first rule on the kind wins.
                if plan.iter().any(|(o, _)| *o == org) {
                    continue;
                }
                let Some((user, team)) = self.alert_assignee(family_id, org).await? else {
                    continue;
                };
                plan.push((
                    org,
                    NewTask {
                        tenant_id,
                        kind: kindred_domain::task::Kind::Alert.code(),
                        family_id: Some(family_id),
                        episode_id: None,
                        assigned_user_id: user,
                        assigned_team_id: team,
                        title: rule.task_title.clone(),
                        due_on: working_days_after(today, 2),
                        created_by_user_id: raised_by_user_id,
                    },
                ));
            }
        }
        Ok(plan)
    }

    /// Applies the tenant's alert rules to a raised flag ([`Db::alert_plan`]),
    /// at most one task per flag and organisation however often this runs.
    /// Returns the tasks made.
    pub async fn raise_alerts(&self, flag_id: i64, today: Date) -> Result<Vec<i64>> {
        let Some(flag) = self.flag(flag_id).await? else {
            return Ok(vec![]);
        };
        if flag.ended_on.is_some() {
            return Ok(vec![]);
        }
        let plan = self
            .alert_plan(
                flag.tenant_id,
                flag.family_id,
                &flag.kind,
                flag.raised_by_user_id,
                today,
            )
            .await?;
        let mut made = vec![];
        for (org, task) in plan {
            let now = crate::now_ms();
            let id = on_pool!(self, |p| {
                let mut tx = p.begin_write().await?;
                let (task_id, new) = insert_alert!(tx, flag_id, org, task, now);
                if new {
                    tx.commit().await?;
                    Ok::<_, sqlx::Error>(Some(task_id))
                } else {
                    tx.rollback().await?;
                    Ok(None)
                }
            })?;
            made.extend(id);
        }
        Ok(made)
    }

    /// Raises a flag with its alert tasks ([`Db::alert_plan`]) and its audit
    /// event in one transaction: a flag is never left without the alerts its
    /// rules call for, nor either without the event. Returns the flag's id
    /// and the tasks made.
    pub async fn raise_flag_with_alerts(&self, f: &NewFlag, actor: &Actor) -> Result<(i64, Vec<i64>)> {
        let plan = self
            .alert_plan(
                f.tenant_id,
                f.family_id,
                &f.kind,
                Some(f.raised_by_user_id),
                f.raised_on,
            )
            .await?;
        let now = crate::now_ms();
        let out = on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let (flag_id,): (i64,) = sqlx::query_as(INSERT_FLAG)
                .bind(f.tenant_id)
                .bind(f.family_id)
                .bind(f.person_id)
                .bind(&f.kind)
                .bind(f.description.trim())
                .bind(Some(f.raised_by_user_id))
                .bind(f.raised_on)
                .fetch_one(&mut *tx)
                .await?;
            let mut tasks = vec![];
            for (org, task) in &plan {
                let (task_id, _) = insert_alert!(tx, flag_id, *org, task, now);
                tasks.push(task_id);
            }
            let event = actor.created(
                "flag",
                flag_id,
                f.family_id,
                format!("kind={} alerts={}", f.kind, tasks.len()),
            );
            crate::audit::append_events!(tx, &[&event]);
            tx.commit().await?;
            Ok::<_, sqlx::Error>((flag_id, tasks))
        })?;
        Ok(out)
    }
}

/// Inside the open transaction `$tx`: the alert task `$task` for flag
/// `$flag` and organisation `$org`, and its `flag_alerts` row. Evaluates to
/// (task id, whether the row was new): not new means the organisation was
/// already alerted about the flag, and the caller rolls back.
macro_rules! insert_alert {
    ($tx:ident, $flag:expr, $org:expr, $task:expr, $now:expr) => {{
        let task: &NewTask = &$task;
        let (task_id,): (i64,) = sqlx::query_as(
            "INSERT INTO tasks (tenant_id, kind, family_id, episode_id, assigned_user_id, assigned_team_id, title,
               due_on, status, created_by_user_id, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $10) RETURNING id",
        )
        .bind(task.tenant_id)
        .bind(task.kind)
        .bind(task.family_id)
        .bind(task.episode_id)
        .bind(task.assigned_user_id)
        .bind(task.assigned_team_id)
        .bind(&task.title)
        .bind(task.due_on)
        .bind(task.created_by_user_id)
        .bind($now)
        .fetch_one(&mut *$tx)
        .await?;
        let n = sqlx::query(
            "INSERT INTO flag_alerts (flag_id, organisation_id, task_id) VALUES ($1, $2, $3)
             ON CONFLICT (flag_id, organisation_id) DO NOTHING",
        )
        .bind($flag)
        .bind($org)
        .bind(task_id)
        .execute(&mut *$tx)
        .await?
        .rows_affected();
        (task_id, n > 0)
    }};
}
use insert_alert;
