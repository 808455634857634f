//! The common early help assessment: one document per family, a draft until
//! it is completed, and read-only from then on (the store refuses to change a
//! completed one whatever the caller asks).

use time::Date;

use crate::{Db, Result, StoreError, on_pool};

/// What the practitioner writes: each section's text and the outcome code.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct EarlyHelpText {
    pub reason: String,
    pub child_development: String,
    pub parenting_capacity: String,
    pub family_environment: String,
    pub child_views: String,
    pub family_views: String,
    pub strengths: String,
    pub needs: String,
    pub analysis: String,
    pub outcome: String,
}

impl EarlyHelpText {
    /// A section's text by its code (`kindred_domain::development::EARLY_HELP_SECTIONS`).
    pub fn section(&self, code: &str) -> &str {
        match code {
            "reason" => &self.reason,
            "child_development" => &self.child_development,
            "parenting_capacity" => &self.parenting_capacity,
            "family_environment" => &self.family_environment,
            "child_views" => &self.child_views,
            "family_views" => &self.family_views,
            "strengths" => &self.strengths,
            "needs" => &self.needs,
            "analysis" => &self.analysis,
            _ => "",
        }
    }

    pub fn set_section(&mut self, code: &str, text: String) {
        let slot = match code {
            "reason" => &mut self.reason,
            "child_development" => &mut self.child_development,
            "parenting_capacity" => &mut self.parenting_capacity,
            "family_environment" => &mut self.family_environment,
            "child_views" => &mut self.child_views,
            "family_views" => &mut self.family_views,
            "strengths" => &mut self.strengths,
            "needs" => &mut self.needs,
            "analysis" => &mut self.analysis,
            _ => return,
        };
        *slot = text;
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EarlyHelpAssessment {
    pub id: i64,
    pub family_id: i64,
    pub status: String,
    pub started_on: Date,
    pub author_name: String,
    /// The author's organisation: whose information it is to share.
    pub organisation_id: i64,
    pub organisation_name: String,
    pub completed_on: Option<Date>,
    pub completed_by_name: Option<String>,
    #[sqlx(flatten)]
    pub text: EarlyHelpText,
}

impl EarlyHelpAssessment {
    pub fn is_completed(&self) -> bool {
        self.status == "completed"
    }
}

const COLUMNS: &str = "e.id, e.family_id, e.status, e.started_on, u.display_name AS author_name,
    u.organisation_id, o.name AS organisation_name, e.completed_on, c.display_name AS completed_by_name, e.reason, e.child_development,
    e.parenting_capacity, e.family_environment, e.child_views, e.family_views, e.strengths, e.needs, e.analysis,
    e.outcome
    FROM early_help_assessments e JOIN users u ON u.id = e.author_user_id
    JOIN organisations o ON o.id = u.organisation_id LEFT JOIN users c ON c.id = e.completed_by_user_id";

impl Db {
    /// Starts an assessment; with `completed_on`, it is completed at once by its author.
    pub async fn create_early_help_assessment(
        &self,
        tenant_id: i64,
        family_id: i64,
        author_user_id: i64,
        started_on: Date,
        t: &EarlyHelpText,
        completed_on: Option<Date>,
    ) -> Result<i64> {
        let now = crate::now_ms();
        let (id,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
            "INSERT INTO early_help_assessments (tenant_id, family_id, author_user_id, status, started_on, reason,
               child_development, parenting_capacity, family_environment, child_views, family_views, strengths, needs,
               analysis, outcome, completed_on, completed_by_user_id, created_at_ms, updated_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id"
        )
        .bind(tenant_id)
        .bind(family_id)
        .bind(author_user_id)
        .bind(if completed_on.is_some() { "completed" } else { "draft" })
        .bind(started_on)
        .bind(&t.reason)
        .bind(&t.child_development)
        .bind(&t.parenting_capacity)
        .bind(&t.family_environment)
        .bind(&t.child_views)
        .bind(&t.family_views)
        .bind(&t.strengths)
        .bind(&t.needs)
        .bind(&t.analysis)
        .bind(&t.outcome)
        .bind(completed_on)
        .bind(completed_on.map(|_| author_user_id))
        .bind(now)
        .bind(now)
        .fetch_one(p)
        .await
        })?;
        Ok(id)
    }

    /// Saves a draft's text, and with `complete` (who, on which day) completes
    /// it. A completed assessment is never changed: `Conflict`.
    pub async fn update_early_help_assessment(
        &self,
        id: i64,
        family_id: i64,
        t: &EarlyHelpText,
        complete: Option<(i64, Date)>,
    ) -> Result<()> {
        let n = on_pool!(self, |p| {
            sqlx::query(
            "UPDATE early_help_assessments SET reason = $3, child_development = $4, parenting_capacity = $5,
               family_environment = $6, child_views = $7, family_views = $8, strengths = $9, needs = $10, analysis = $11,
               outcome = $12, status = $13, completed_by_user_id = $14, completed_on = $15, updated_at_ms = $16
             WHERE id = $1 AND family_id = $2 AND status = 'draft'"
        )
        .bind(id)
        .bind(family_id)
        .bind(&t.reason)
        .bind(&t.child_development)
        .bind(&t.parenting_capacity)
        .bind(&t.family_environment)
        .bind(&t.child_views)
        .bind(&t.family_views)
        .bind(&t.strengths)
        .bind(&t.needs)
        .bind(&t.analysis)
        .bind(&t.outcome)
        .bind(if complete.is_some() { "completed" } else { "draft" })
        .bind(complete.map(|c| c.0))
        .bind(complete.map(|c| c.1))
        .bind(crate::now_ms())
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        })?;
        if n == 0 {
            return Err(StoreError::Conflict("early help assessment is not a draft".into()));
        }
        Ok(())
    }

    /// A family's early help assessments, newest first.
    pub async fn early_help_assessments_of_family(&self, family_id: i64) -> Result<Vec<EarlyHelpAssessment>> {
        let sql = format!("SELECT {COLUMNS} WHERE e.family_id = $1 ORDER BY e.started_on DESC, e.id DESC");
        Ok(on_pool!(self, |p| sqlx::query_as(&sql)
            .bind(family_id)
            .fetch_all(p)
            .await)?)
    }

    /// One assessment of a family (`None` if it is not this family's).
    pub async fn early_help_assessment(&self, family_id: i64, id: i64) -> Result<Option<EarlyHelpAssessment>> {
        let sql = format!("SELECT {COLUMNS} WHERE e.family_id = $1 AND e.id = $2");
        Ok(on_pool!(self, |p| sqlx::query_as(&sql)
            .bind(family_id)
            .bind(id)
            .fetch_optional(p)
            .await)?)
    }
}
