//! Child development: each tenant's ASQ cut-offs, ASQ-3 and ASQ:SE
//! questionnaires with their scores, and integrated reviews at two.

use time::Date;

use crate::{Db, Result, on_pool};

/// One of a tenant's cut-offs, in hundredths of a point.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CutoffRow {
    pub instrument: String,
    pub interval_months: i32,
    pub area: String,
    pub cutoff_centi: i32,
    pub monitoring_centi: i32,
}

#[derive(Debug, Clone)]
pub struct NewQuestionnaire {
    pub tenant_id: i64,
    pub family_id: i64,
    pub person_id: i64,
    /// `asq3` or `asqse`
    pub instrument: String,
    pub interval_months: u8,
    pub completed_on: Date,
    pub author_user_id: i64,
    pub notes: String,
    /// (area code, score); ASQ:SE has one, `total`.
    pub scores: Vec<(String, u16)>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Questionnaire {
    pub id: i64,
    pub person_id: i64,
    pub instrument: String,
    pub interval_months: i32,
    pub completed_on: Date,
    pub author_name: String,
    /// The author's organisation: whose information it is to share.
    pub organisation_id: i64,
    pub organisation_name: String,
    pub notes: String,
    #[sqlx(skip)]
    pub scores: Vec<(String, u16)>,
}

#[derive(Debug, Clone)]
pub struct NewTwoYearReview {
    pub tenant_id: i64,
    pub family_id: i64,
    pub person_id: i64,
    pub reviewed_on: Date,
    pub author_user_id: i64,
    /// The ASQ-3 at 24, 27 or 30 months the review took in.
    pub questionnaire_id: Option<i64>,
    pub weight_grams: Option<u32>,
    pub height_mm: Option<u32>,
    pub health_notes: String,
    pub setting_name: String,
    /// Progress codes for the three prime areas.
    pub eyfs_communication: String,
    pub eyfs_physical: String,
    pub eyfs_psed: String,
    pub eyfs_notes: String,
    pub parent_views: String,
    pub next_steps: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TwoYearReview {
    pub id: i64,
    pub person_id: i64,
    pub reviewed_on: Date,
    pub author_name: String,
    /// The author's organisation: whose information it is to share.
    pub organisation_id: i64,
    pub organisation_name: String,
    pub questionnaire_id: Option<i64>,
    pub weight_grams: Option<i32>,
    pub height_mm: Option<i32>,
    pub health_notes: String,
    pub setting_name: String,
    pub eyfs_communication: String,
    pub eyfs_physical: String,
    pub eyfs_psed: String,
    pub eyfs_notes: String,
    pub parent_views: String,
    pub next_steps: String,
}

impl Db {
    /// Every cut-off the tenant has set.
    pub async fn asq_cutoffs(&self, tenant_id: i64) -> Result<Vec<CutoffRow>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT instrument, interval_months, area, cutoff_centi, monitoring_centi FROM asq_cutoffs
             WHERE tenant_id = $1 ORDER BY instrument, interval_months, area"
        )
        .bind(tenant_id)
        .fetch_all(p)
        .await)?)
    }

    /// Sets (or with `None`, removes) one cut-off: (cut-off, monitoring) in hundredths.
    pub async fn set_asq_cutoff(
        &self,
        tenant_id: i64,
        by_user_id: Option<i64>,
        instrument: &str,
        interval_months: u8,
        area: &str,
        value: Option<(u32, u32)>,
    ) -> Result<()> {
        match value {
            Some((cutoff, monitoring)) => on_pool!(self, |p| {
                sqlx::query(
                "INSERT INTO asq_cutoffs (tenant_id, instrument, interval_months, area, cutoff_centi, monitoring_centi,
                   updated_by_user_id, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (tenant_id, instrument, interval_months, area) DO UPDATE SET
                   cutoff_centi = excluded.cutoff_centi, monitoring_centi = excluded.monitoring_centi,
                   updated_by_user_id = excluded.updated_by_user_id, updated_at_ms = excluded.updated_at_ms"
            )
            .bind(tenant_id)
            .bind(instrument)
            .bind(i32::from(interval_months))
            .bind(area)
            .bind(cutoff as i32)
            .bind(monitoring as i32)
            .bind(by_user_id)
            .bind(crate::now_ms())
            .execute(p)
            .await
            .map(|r| r.rows_affected())
            })?,
            None => on_pool!(self, |p| {
                sqlx::query(
                "DELETE FROM asq_cutoffs WHERE tenant_id = $1 AND instrument = $2 AND interval_months = $3 AND area = $4"
            )
            .bind(tenant_id)
            .bind(instrument)
            .bind(i32::from(interval_months))
            .bind(area)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
            })?,
        };
        Ok(())
    }

    pub async fn create_questionnaire(&self, q: &NewQuestionnaire) -> Result<i64> {
        let (id,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
            "INSERT INTO questionnaires (tenant_id, family_id, person_id, instrument, interval_months, completed_on,
               author_user_id, notes, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id"
        )
        .bind(q.tenant_id)
        .bind(q.family_id)
        .bind(q.person_id)
        .bind(&q.instrument)
        .bind(i32::from(q.interval_months))
        .bind(q.completed_on)
        .bind(q.author_user_id)
        .bind(&q.notes)
        .bind(crate::now_ms())
        .fetch_one(p)
        .await
        })?;
        for (area, score) in &q.scores {
            on_pool!(self, |p| sqlx::query(
                "INSERT INTO questionnaire_scores (questionnaire_id, area, score) VALUES ($1, $2, $3)"
            )
            .bind(id)
            .bind(area)
            .bind(i32::from(*score))
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        }
        Ok(id)
    }

    /// A family's questionnaires, newest first, each with its scores.
    pub async fn questionnaires_of_family(&self, family_id: i64) -> Result<Vec<Questionnaire>> {
        let mut rows: Vec<Questionnaire> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT q.id, q.person_id, q.instrument, q.interval_months, q.completed_on, u.display_name AS author_name,
               u.organisation_id, o.name AS organisation_name, q.notes
             FROM questionnaires q JOIN users u ON u.id = q.author_user_id JOIN organisations o ON o.id = u.organisation_id
             WHERE q.family_id = $1 ORDER BY q.completed_on DESC, q.id DESC"
        )
        .bind(family_id)
        .fetch_all(p)
        .await
        })?;
        let scores: Vec<(i64, String, i32)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT s.questionnaire_id, s.area, s.score FROM questionnaire_scores s
             JOIN questionnaires q ON q.id = s.questionnaire_id WHERE q.family_id = $1"
        )
        .bind(family_id)
        .fetch_all(p)
        .await)?;
        for r in &mut rows {
            r.scores = scores
                .iter()
                .filter(|s| s.0 == r.id)
                .map(|s| (s.1.clone(), u16::try_from(s.2).unwrap_or(0)))
                .collect();
        }
        Ok(rows)
    }

    pub async fn create_two_year_review(&self, r: &NewTwoYearReview) -> Result<i64> {
        let (id,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
            "INSERT INTO two_year_reviews (tenant_id, family_id, person_id, reviewed_on, author_user_id, questionnaire_id,
               weight_grams, height_mm, health_notes, setting_name, eyfs_communication, eyfs_physical, eyfs_psed,
               eyfs_notes, parent_views, next_steps, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id"
        )
        .bind(r.tenant_id)
        .bind(r.family_id)
        .bind(r.person_id)
        .bind(r.reviewed_on)
        .bind(r.author_user_id)
        .bind(r.questionnaire_id)
        .bind(r.weight_grams.map(|g| g as i32))
        .bind(r.height_mm.map(|h| h as i32))
        .bind(&r.health_notes)
        .bind(&r.setting_name)
        .bind(&r.eyfs_communication)
        .bind(&r.eyfs_physical)
        .bind(&r.eyfs_psed)
        .bind(&r.eyfs_notes)
        .bind(&r.parent_views)
        .bind(&r.next_steps)
        .bind(crate::now_ms())
        .fetch_one(p)
        .await
        })?;
        Ok(id)
    }

    /// A family's integrated reviews, newest first.
    pub async fn two_year_reviews_of_family(&self, family_id: i64) -> Result<Vec<TwoYearReview>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT r.id, r.person_id, r.reviewed_on, u.display_name AS author_name, u.organisation_id, o.name AS organisation_name,
               r.questionnaire_id, r.weight_grams, r.height_mm, r.health_notes, r.setting_name, r.eyfs_communication,
               r.eyfs_physical, r.eyfs_psed, r.eyfs_notes, r.parent_views, r.next_steps
             FROM two_year_reviews r JOIN users u ON u.id = r.author_user_id JOIN organisations o ON o.id = u.organisation_id
             WHERE r.family_id = $1 ORDER BY r.reviewed_on DESC, r.id DESC"
        )
        .bind(family_id)
        .fetch_all(p)
        .await
        })?)
    }
}
