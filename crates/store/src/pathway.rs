//! The universal pathway (issue 7): each tenant's stage model, the young
//! children a reader may see with what the pathway needs (dates of birth or
//! expected delivery, current postcode), and completed stages.

use kindred_domain::access::Subject;
use kindred_domain::pathway::PathwayModel;
use time::Date;

use crate::BeginWrite;
use crate::{Db, Result, on_pool};

/// A child under five, or an unborn baby, in a family the reader may see.
#[derive(Clone, sqlx::FromRow)]
pub struct PathwayChild {
    pub person_id: i64,
    pub family_id: i64,
    pub family_name: String,
    pub given_name: String,
    pub family_name_of_child: String,
    pub date_of_birth: Option<Date>,
    pub expected_delivery: Option<Date>,
    pub postcode: Option<String>,
}

impl std::fmt::Debug for PathwayChild {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PathwayChild")
            .field("person_id", &self.person_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Completion {
    pub person_id: i64,
    pub stage: String,
    pub completed_on: Date,
}

/// Records a pathway stage as done inside the open transaction `$tx` (once:
/// a second completion of the same stage is ignored); evaluates to the rows
/// written, 0 or 1.
macro_rules! insert_completion {
    ($tx:ident, $person:expr, $stage:expr, $on:expr, $contact:expr, $source:expr, $by:expr) => {{
        let stage: &str = $stage;
        let on: time::Date = $on;
        let contact: Option<i64> = $contact;
        let source: Option<i64> = $source;
        let by: Option<i64> = $by;
        sqlx::query(
            "INSERT INTO pathway_completions (person_id, stage, completed_on, contact_id, source_record_id, recorded_by_user_id, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (person_id, stage) DO NOTHING",
        )
        .bind($person)
        .bind(stage)
        .bind(on)
        .bind(contact)
        .bind(source)
        .bind(by)
        .bind(crate::now_ms())
        .execute(&mut *$tx)
        .await?
        .rows_affected()
    }};
}
pub(crate) use insert_completion;

impl Db {
    pub async fn pathway_model(&self, tenant_id: i64) -> Result<PathwayModel> {
        let (code,): (String,) = on_pool!(self, |p| sqlx::query_as(
            "SELECT pathway_model FROM tenants WHERE id = $1"
        )
        .bind(tenant_id)
        .fetch_one(p)
        .await)?;
        Ok(PathwayModel::parse(&code).unwrap_or(PathwayModel::HealthyChildProgramme))
    }

    pub async fn set_pathway_model(&self, tenant_id: i64, model: PathwayModel) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE tenants SET pathway_model = $1 WHERE id = $2"
        )
        .bind(model.code())
        .bind(tenant_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Children under five (born on or after `born_since`) and unborn babies
    /// who are current members of families the subject may see (the SQL
    /// mirror of the policy; callers re-check each family), optionally only
    /// families where one of `workers` leads or is in the team around the family.
    pub async fn pathway_children(
        &self,
        subject: &Subject,
        born_since: Date,
        workers: Option<&[i64]>,
        limit: i64,
    ) -> Result<Vec<PathwayChild>> {
        let visible = self.visible_condition(subject).await?;
        let team = match workers {
            Some(ids) if !ids.is_empty() => {
                let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
                format!(
                    " AND (f.lead_user_id IN ({list}) OR EXISTS (SELECT 1 FROM team_members tm WHERE tm.family_id = f.id
                       AND tm.until_date IS NULL AND tm.user_id IN ({list})))"
                )
            }
            Some(_) => " AND 1 = 0".to_string(),
            None => String::new(),
        };
        let sql = format!(
            "SELECT p.id AS person_id, f.id AS family_id, f.name AS family_name, p.given_name,
                    p.family_name AS family_name_of_child, p.date_of_birth, p.expected_delivery,
                    (SELECT a.postcode FROM addresses a WHERE a.person_id = p.id AND a.to_date IS NULL
                     ORDER BY a.from_date DESC, a.id DESC LIMIT 1) AS postcode
             FROM family_members m
             JOIN persons p ON p.id = m.person_id
             JOIN families f ON f.id = m.family_id
             WHERE m.left_on IS NULL AND m.role IN ('child', 'unborn')
               AND (p.date_of_birth >= $1 OR (p.date_of_birth IS NULL AND p.expected_delivery IS NOT NULL))
               AND {visible}{team}
             ORDER BY p.date_of_birth DESC, p.id LIMIT $2"
        );
        Ok(on_pool!(self, |p| sqlx::query_as::<_, PathwayChild>(&sql)
            .bind(born_since)
            .bind(limit)
            .fetch_all(p)
            .await)?)
    }

    /// Every child of a tenant born on or after `born_since`, with what a
    /// health visiting system would send: (person, NHS number, given name,
    /// family name, date of birth). For the demo's pathway feed.
    pub async fn young_children(
        &self,
        tenant_id: i64,
        born_since: Date,
    ) -> Result<Vec<(i64, Option<String>, String, String, Date)>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT id, nhs_number, given_name, family_name, date_of_birth FROM persons
             WHERE tenant_id = $1 AND date_of_birth >= $2 ORDER BY id"
        )
        .bind(tenant_id)
        .bind(born_since)
        .fetch_all(p)
        .await)?)
    }

    /// The active workers of a team.
    pub async fn team_user_ids(&self, team_id: i64) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT id FROM users WHERE team_id = $1 AND active ORDER BY id"
        )
        .bind(team_id)
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// The completed stages of these people.
    pub async fn pathway_completions(&self, person_ids: &[i64]) -> Result<Vec<Completion>> {
        if person_ids.is_empty() {
            return Ok(vec![]);
        }
        let mut out = vec![];
        for chunk in person_ids.chunks(500) {
            let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
            let sql = format!(
                "SELECT person_id, stage, completed_on FROM pathway_completions WHERE person_id IN ({list}) ORDER BY person_id, completed_on"
            );
            let rows: Vec<Completion> = on_pool!(self, |p| sqlx::query_as::<_, Completion>(&sql).fetch_all(p).await)?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// Records a stage as completed (once: a second completion of the same
    /// stage is ignored). Returns whether it was recorded.
    pub async fn complete_pathway_stage(
        &self,
        person_id: i64,
        stage: &str,
        on: Date,
        contact_id: Option<i64>,
        source_record_id: Option<i64>,
        by: Option<i64>,
    ) -> Result<bool> {
        let n = on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let n = insert_completion!(tx, person_id, stage, on, contact_id, source_record_id, by);
            tx.commit().await?;
            Ok::<_, sqlx::Error>(n)
        })?;
        Ok(n == 1)
    }
}
