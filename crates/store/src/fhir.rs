//! What the FHIR API (issue 8) needs beyond the other modules: finding
//! persons by the FHIR Patient search parameters, and the family a resource
//! belongs to, so the web layer can ask the access policy about that family.
//! Nothing here decides who may see what.

use time::Date;

use crate::{Db, Result, on_pool};

/// The FHIR Patient search parameters Kindred supports, already parsed.
#[derive(Debug, Clone, Default)]
pub struct PersonQuery {
    pub nhs_number: Option<String>,
    /// Starts-with, case-insensitive (FHIR string search).
    pub family: Option<String>,
    pub given: Option<String>,
    pub birthdate: Option<Date>,
    /// A full postcode, normalised (`SW1A 1AA`), of a current address.
    pub postcode: Option<String>,
    pub id: Option<i64>,
}

/// A resource kind whose rows name their family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FamilyOwned {
    Episode,
    Goal,
    Flag,
    Assessment,
    Referral,
}

impl Db {
    /// Persons of a tenant matching every given parameter, by id; at most
    /// `limit`. The NHS number goes through the `(tenant_id, nhs_number)` index.
    pub async fn fhir_find_persons(&self, tenant_id: i64, q: &PersonQuery, limit: i64) -> Result<Vec<i64>> {
        let mut sql = String::from("SELECT p.id FROM persons p WHERE p.tenant_id = $1");
        let mut n = 1;
        let mut next = |sql: &mut String, clause: &str| {
            n += 1;
            sql.push_str(&clause.replace('?', &format!("${n}")));
        };
        if q.nhs_number.is_some() {
            next(&mut sql, " AND p.nhs_number = ?");
        }
        if q.family.is_some() {
            next(&mut sql, " AND lower(p.family_name) LIKE ?");
        }
        if q.given.is_some() {
            next(&mut sql, " AND lower(p.given_name) LIKE ?");
        }
        if q.birthdate.is_some() {
            next(&mut sql, " AND p.date_of_birth = ?");
        }
        if q.postcode.is_some() {
            next(
                &mut sql,
                " AND EXISTS (SELECT 1 FROM addresses a WHERE a.person_id = p.id AND a.to_date IS NULL AND a.postcode = ?)",
            );
        }
        if q.id.is_some() {
            next(&mut sql, " AND p.id = ?");
        }
        n += 1;
        sql.push_str(&format!(" ORDER BY p.id LIMIT ${n}"));
        let like = |s: &Option<String>| {
            s.as_ref()
                .map(|s| format!("{}%", s.to_lowercase().replace(['%', '_'], "")))
        };
        let (family, given) = (like(&q.family), like(&q.given));
        on_pool!(self, |p, DB| {
            let mut query = sqlx::query_scalar::<DB, i64>(&sql).bind(tenant_id);
            if let Some(v) = &q.nhs_number {
                query = query.bind(v);
            }
            if let Some(v) = &family {
                query = query.bind(v);
            }
            if let Some(v) = &given {
                query = query.bind(v);
            }
            if let Some(v) = q.birthdate {
                query = query.bind(v);
            }
            if let Some(v) = &q.postcode {
                query = query.bind(v);
            }
            if let Some(v) = q.id {
                query = query.bind(v);
            }
            Ok(query.bind(limit).fetch_all(p).await?)
        })
    }

    /// The family a row of `kind` belongs to, if the row exists.
    pub async fn fhir_family_of(&self, kind: FamilyOwned, id: i64) -> Result<Option<i64>> {
        let sql = match kind {
            FamilyOwned::Episode => "SELECT family_id FROM episodes WHERE id = $1",
            FamilyOwned::Goal => "SELECT family_id FROM plan_goals WHERE id = $1",
            FamilyOwned::Flag => "SELECT family_id FROM flags WHERE id = $1",
            FamilyOwned::Assessment => "SELECT family_id FROM assessments WHERE id = $1",
            FamilyOwned::Referral => "SELECT family_id FROM referrals WHERE id = $1 AND status <> 'draft'",
        };
        let r: Option<Option<i64>> = on_pool!(self, |p| sqlx::query_scalar(sql).bind(id).fetch_optional(p).await)?;
        Ok(r.flatten())
    }

    /// The persons a relationship joins: (from, to).
    pub async fn relationship_persons(&self, id: i64) -> Result<Option<(i64, i64)>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT from_person_id, to_person_id FROM relationships WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(p)
        .await)?)
    }
}
