//! Family-led assessments: recorded once, read by every partner with access.

use kindred_domain::assessment::TenantArea;
use time::Date;

use crate::BeginWrite;
use crate::{Db, Result, on_pool};

#[derive(Debug, Clone)]
pub struct NewAssessment {
    pub tenant_id: i64,
    pub family_id: i64,
    pub author_user_id: i64,
    pub assessed_on: Date,
    pub strengths: String,
    pub changes: String,
    pub future: String,
    /// (area code, score 1–10, the family's words)
    pub scores: Vec<(String, u8, String)>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Assessment {
    pub id: i64,
    pub assessed_on: Date,
    pub author_name: String,
    /// The author's organisation: whose information it is to share.
    pub organisation_id: i64,
    pub organisation_name: String,
    pub strengths: String,
    pub changes: String,
    pub future: String,
    #[sqlx(skip)]
    pub scores: Vec<(String, u8, String)>,
}

impl Db {
    /// Records an assessment and its scores in one transaction: all or nothing.
    pub async fn create_assessment(&self, a: &NewAssessment) -> Result<i64> {
        let id = on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO assessments (tenant_id, family_id, author_user_id, assessed_on, strengths, changes, future,
                   created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(a.tenant_id)
            .bind(a.family_id)
            .bind(a.author_user_id)
            .bind(a.assessed_on)
            .bind(&a.strengths)
            .bind(&a.changes)
            .bind(&a.future)
            .bind(crate::now_ms())
            .fetch_one(&mut *tx)
            .await?;
            for (area, score, words) in &a.scores {
                sqlx::query(
                    "INSERT INTO assessment_scores (assessment_id, area, score, words) VALUES ($1, $2, $3, $4)",
                )
                .bind(id)
                .bind(area)
                .bind(i32::from(*score))
                .bind(words)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(id)
        })?;
        Ok(id)
    }

    /// A family's assessments, oldest first, each with its scores.
    pub async fn assessments_of_family(&self, family_id: i64) -> Result<Vec<Assessment>> {
        let mut rows: Vec<Assessment> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT a.id, a.assessed_on, u.display_name AS author_name, u.organisation_id, o.name AS organisation_name, a.strengths,
               a.changes, a.future
             FROM assessments a JOIN users u ON u.id = a.author_user_id JOIN organisations o ON o.id = u.organisation_id
             WHERE a.family_id = $1 ORDER BY a.assessed_on, a.id"
        )
        .bind(family_id)
        .fetch_all(p)
        .await
        })?;
        let scores: Vec<(i64, String, i32, String)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT s.assessment_id, s.area, s.score, s.words FROM assessment_scores s
             JOIN assessments a ON a.id = s.assessment_id WHERE a.family_id = $1"
        )
        .bind(family_id)
        .fetch_all(p)
        .await)?;
        for r in &mut rows {
            r.scores = scores
                .iter()
                .filter(|s| s.0 == r.id)
                .map(|s| (s.1.clone(), u8::try_from(s.2).unwrap_or(0), s.3.clone()))
                .collect();
        }
        Ok(rows)
    }
}

impl Db {
    /// A tenant's saved areas (reworded defaults and its own), in order.
    /// `kindred_domain::assessment::tenant_areas` merges them with the defaults.
    pub async fn assessment_areas(&self, tenant_id: i64) -> Result<Vec<TenantArea>> {
        let rows: Vec<(String, String, bool)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT code, question, asked FROM assessment_areas WHERE tenant_id = $1 ORDER BY position"
        )
        .bind(tenant_id)
        .fetch_all(p)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(code, question, asked)| TenantArea { code, question, asked })
            .collect())
    }

    /// Replaces a tenant's areas, in one transaction.
    pub async fn save_assessment_areas(&self, tenant_id: i64, areas: &[TenantArea]) -> Result<()> {
        on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("DELETE FROM assessment_areas WHERE tenant_id = $1")
                .bind(tenant_id)
                .execute(&mut *tx)
                .await?;
            for (i, a) in areas.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO assessment_areas (tenant_id, code, question, asked, position) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(tenant_id)
                .bind(&a.code)
                .bind(&a.question)
                .bind(a.asked)
                .bind(i as i64)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }
}
