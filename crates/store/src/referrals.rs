//! The front door: referrals from every route, the people they concern, the
//! triage queue, possible matches, decisions and the referral's timeline.

use kindred_domain::model::{MemberRole, Sex};
use kindred_domain::names;
use kindred_domain::referral::{DueRule, Level, Outcome, Route, Status, Urgency};
use sqlx::QueryBuilder;
use time::Date;

use crate::BeginWrite;
use crate::persons::{PERSON_COLUMNS, Person, PersonRow};
use crate::{Db, Result, StoreError, on_pool, on_read};

#[derive(Debug, Clone)]
pub struct Referral {
    pub id: i64,
    pub tenant_id: i64,
    pub reference: String,
    pub route: Route,
    pub status: Status,
    pub family_id: Option<i64>,
    pub urgency: Urgency,
    pub received_at_ms: i64,
    pub due_at_ms: i64,
    pub hub_site_id: Option<i64>,
    pub hub_name: Option<String>,
    pub referrer_user_id: Option<i64>,
    pub referrer_organisation_id: Option<i64>,
    pub referrer_organisation_name: Option<String>,
    pub referrer: Referrer,
    pub summary: String,
    pub family_aware: bool,
    pub consent: Consent,
    pub claimed_by_user_id: Option<i64>,
    pub claimed_by_name: Option<String>,
    pub decision: Option<Decision>,
    pub needs: Vec<String>,
}

/// How to reach whoever made the referral.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Referrer {
    pub name: String,
    pub role: String,
    pub phone: String,
    pub email: String,
}

/// Consent to share, as recorded at referral: who gave it, when, for what.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Consent {
    pub given: bool,
    pub by: String,
    pub on: Option<Date>,
    pub scope: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub at_ms: i64,
    pub by_user_id: Option<i64>,
    pub by_name: Option<String>,
    pub level: Level,
    pub outcome: Outcome,
    pub rationale: String,
    /// The service signposted to, or other detail of the outcome.
    pub detail: String,
    pub organisation_id: Option<i64>,
    pub organisation_name: Option<String>,
    pub lead_user_id: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct ReferralRow {
    id: i64,
    tenant_id: i64,
    reference: String,
    route: String,
    status: String,
    family_id: Option<i64>,
    urgency: String,
    received_at_ms: i64,
    due_at_ms: i64,
    hub_site_id: Option<i64>,
    hub_name: Option<String>,
    referrer_user_id: Option<i64>,
    referrer_organisation_id: Option<i64>,
    referrer_organisation_name: Option<String>,
    referrer_name: String,
    referrer_role: String,
    referrer_phone: String,
    referrer_email: String,
    summary: String,
    family_aware: bool,
    consent_given: bool,
    consent_by: String,
    consent_on: Option<Date>,
    consent_scope: String,
    claimed_by_user_id: Option<i64>,
    claimed_by_name: Option<String>,
    decided_at_ms: Option<i64>,
    decided_by_user_id: Option<i64>,
    decided_by_name: Option<String>,
    level: Option<String>,
    outcome: Option<String>,
    rationale: Option<String>,
    outcome_detail: Option<String>,
    outcome_organisation_id: Option<i64>,
    outcome_organisation_name: Option<String>,
    lead_user_id: Option<i64>,
}

const REFERRAL_SELECT: &str = "SELECT r.id, r.tenant_id, r.reference, r.route, r.status, r.family_id, r.urgency,
    r.received_at_ms, r.due_at_ms, r.hub_site_id, h.name AS hub_name, r.referrer_user_id, r.referrer_organisation_id,
    ro.name AS referrer_organisation_name, r.referrer_name, r.referrer_role, r.referrer_phone, r.referrer_email,
    r.summary, r.family_aware, r.consent_given, r.consent_by, r.consent_on, r.consent_scope,
    r.claimed_by_user_id, cu.display_name AS claimed_by_name, r.decided_at_ms, r.decided_by_user_id,
    du.display_name AS decided_by_name, r.level, r.outcome, r.rationale, r.outcome_detail,
    r.outcome_organisation_id, oo.name AS outcome_organisation_name, r.lead_user_id
  FROM referrals r
  LEFT JOIN hub_sites h ON h.id = r.hub_site_id
  LEFT JOIN organisations ro ON ro.id = r.referrer_organisation_id
  LEFT JOIN users cu ON cu.id = r.claimed_by_user_id
  LEFT JOIN users du ON du.id = r.decided_by_user_id
  LEFT JOIN organisations oo ON oo.id = r.outcome_organisation_id";

impl ReferralRow {
    fn into_referral(self, needs: Vec<String>) -> Referral {
        let decision = match (
            self.decided_at_ms,
            self.level.as_deref().and_then(Level::parse),
            self.outcome.as_deref().and_then(Outcome::parse),
        ) {
            (Some(at_ms), Some(level), Some(outcome)) => Some(Decision {
                at_ms,
                by_user_id: self.decided_by_user_id,
                by_name: self.decided_by_name,
                level,
                outcome,
                rationale: self.rationale.unwrap_or_default(),
                detail: self.outcome_detail.unwrap_or_default(),
                organisation_id: self.outcome_organisation_id,
                organisation_name: self.outcome_organisation_name,
                lead_user_id: self.lead_user_id,
            }),
            _ => None,
        };
        Referral {
            id: self.id,
            tenant_id: self.tenant_id,
            reference: self.reference,
            route: Route::parse(&self.route).unwrap_or(Route::Professional),
            status: Status::parse(&self.status).unwrap_or(Status::Open),
            family_id: self.family_id,
            urgency: Urgency::parse(&self.urgency).unwrap_or(Urgency::Routine),
            received_at_ms: self.received_at_ms,
            due_at_ms: self.due_at_ms,
            hub_site_id: self.hub_site_id,
            hub_name: self.hub_name,
            referrer_user_id: self.referrer_user_id,
            referrer_organisation_id: self.referrer_organisation_id,
            referrer_organisation_name: self.referrer_organisation_name,
            referrer: Referrer {
                name: self.referrer_name,
                role: self.referrer_role,
                phone: self.referrer_phone,
                email: self.referrer_email,
            },
            summary: self.summary,
            family_aware: self.family_aware,
            consent: Consent {
                given: self.consent_given,
                by: self.consent_by,
                on: self.consent_on,
                scope: self.consent_scope,
            },
            claimed_by_user_id: self.claimed_by_user_id,
            claimed_by_name: self.claimed_by_name,
            decision,
            needs,
        }
    }
}

/// A person a referral concerns: known (`person_id`), or as described until triage resolves them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralPerson {
    pub id: i64,
    pub referral_id: i64,
    pub person_id: Option<i64>,
    pub role: MemberRole,
    pub details: PersonAsGiven,
}

/// A person as the referrer described them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PersonAsGiven {
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: Option<Date>,
    pub expected_delivery: Option<Date>,
    pub sex: Option<String>,
    pub nhs_number: Option<String>,
    pub postcode: Option<String>,
    pub address_line: Option<String>,
}

impl PersonAsGiven {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name).trim().to_string()
    }
}

#[derive(sqlx::FromRow)]
struct ReferralPersonRow {
    id: i64,
    referral_id: i64,
    person_id: Option<i64>,
    role: String,
    given_name: String,
    family_name: String,
    date_of_birth: Option<Date>,
    expected_delivery: Option<Date>,
    sex: String,
    nhs_number: Option<String>,
    postcode: Option<String>,
    address_line: Option<String>,
}

impl From<ReferralPersonRow> for ReferralPerson {
    fn from(r: ReferralPersonRow) -> Self {
        ReferralPerson {
            id: r.id,
            referral_id: r.referral_id,
            person_id: r.person_id,
            role: MemberRole::parse(&r.role).unwrap_or(MemberRole::Child),
            details: PersonAsGiven {
                given_name: r.given_name,
                family_name: r.family_name,
                date_of_birth: r.date_of_birth,
                expected_delivery: r.expected_delivery,
                sex: Some(r.sex),
                nhs_number: r.nhs_number,
                postcode: r.postcode,
                address_line: r.address_line,
            },
        }
    }
}

/// Everything on a referral the referrer fills in, apart from the people.
#[derive(Debug, Clone, Default)]
pub struct ReferralDetails {
    pub route: Option<Route>,
    pub urgency: Option<Urgency>,
    pub summary: String,
    pub family_aware: bool,
    pub consent: Consent,
    pub referrer: Referrer,
    pub needs: Vec<String>,
}

/// A new referral: the route, who made it, and the family if it is already known.
#[derive(Debug, Clone)]
pub struct NewReferral {
    pub tenant_id: i64,
    pub route: Route,
    pub referrer_user_id: Option<i64>,
    pub referrer_organisation_id: Option<i64>,
    pub referrer: Referrer,
    pub family_id: Option<i64>,
    pub reference: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReferralEvent {
    pub at_ms: i64,
    pub user_name: Option<String>,
    pub kind: String,
    pub detail: String,
}

/// The family a referral's people go into.
#[derive(Debug, Clone, Copy)]
pub enum ReferralFamily<'a> {
    New(&'a str),
    Existing(i64),
}

/// What the triage queue can be narrowed by.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub hub_site_id: Option<i64>,
    pub need: Option<String>,
    pub route: Option<Route>,
    /// `Some(user)`: claimed by that user; `Some(0)`: unclaimed.
    pub claimed_by: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueueRow {
    pub id: i64,
    pub reference: String,
    pub route: String,
    pub urgency: String,
    pub received_at_ms: i64,
    pub due_at_ms: i64,
    pub hub_name: Option<String>,
    pub claimed_by_name: Option<String>,
    pub family_id: Option<i64>,
    pub first_person: Option<String>,
    pub people: i64,
    pub needs: Option<String>,
}

/// A referral as its referrer sees it in "your referrals".
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SentReferral {
    pub id: i64,
    pub reference: String,
    pub status: String,
    pub received_at_ms: i64,
    pub outcome: Option<String>,
    pub decided_at_ms: Option<i64>,
}

/// A person already known who may be the person a referral describes.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub person: Person,
    pub score: f64,
    pub reasons: Vec<&'static str>,
    pub postcode: Option<String>,
    /// (family id, family name) of the person's current families.
    pub families: Vec<(i64, String)>,
}

/// The decision triage records.
#[derive(Debug, Clone)]
pub struct NewDecision {
    pub user_id: i64,
    pub level: Level,
    pub outcome: Outcome,
    pub rationale: String,
    pub detail: String,
    pub organisation_id: Option<i64>,
    pub lead_user_id: Option<i64>,
}

impl Db {
    /// The tenant's rule for when referrals are due.
    pub async fn triage_rule(&self, tenant_id: i64) -> Result<DueRule> {
        let (hours, working): (i64, bool) = on_pool!(self, |p| sqlx::query_as(
            "SELECT triage_hours, triage_working_hours FROM tenants WHERE id = $1"
        )
        .bind(tenant_id)
        .fetch_optional(p)
        .await)?
        .ok_or(StoreError::NotFound)?;
        Ok(DueRule {
            hours: hours.clamp(1, 24 * 365) as u32,
            working_hours_only: working,
        })
    }

    pub async fn set_triage_rule(&self, tenant_id: i64, rule: DueRule) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE tenants SET triage_hours = $2, triage_working_hours = $3 WHERE id = $1"
        )
        .bind(tenant_id)
        .bind(i64::from(rule.hours))
        .bind(rule.working_hours_only)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Starts a referral as a draft, not yet in the queue.
    pub async fn create_referral(&self, n: &NewReferral) -> Result<Referral> {
        let now = crate::now_ms();
        let (id,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "INSERT INTO referrals (tenant_id, reference, route, status, family_id, received_at_ms, due_at_ms,
               referrer_user_id, referrer_organisation_id, referrer_name, referrer_role, referrer_phone, referrer_email)
             VALUES ($1, $2, $3, 'draft', $4, $5, $5, $6, $7, $8, $9, $10, $11) RETURNING id"
        )
        .bind(n.tenant_id)
        .bind(&n.reference)
        .bind(n.route.code())
        .bind(n.family_id)
        .bind(now)
        .bind(n.referrer_user_id)
        .bind(n.referrer_organisation_id)
        .bind(&n.referrer.name)
        .bind(&n.referrer.role)
        .bind(&n.referrer.phone)
        .bind(&n.referrer.email)
        .fetch_one(p)
        .await)?;
        self.referral(id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn referral(&self, id: i64) -> Result<Option<Referral>> {
        let sql = format!("{REFERRAL_SELECT} WHERE r.id = $1");
        let row: Option<ReferralRow> = on_pool!(self, |p| sqlx::query_as(&sql).bind(id).fetch_optional(p).await)?;
        let Some(row) = row else { return Ok(None) };
        let needs: Vec<(String,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT need FROM referral_needs WHERE referral_id = $1 ORDER BY need"
        )
        .bind(id)
        .fetch_all(p)
        .await)?;
        Ok(Some(row.into_referral(needs.into_iter().map(|n| n.0).collect())))
    }

    pub async fn referral_id_by_reference(&self, tenant_id: i64, reference: &str) -> Result<Option<i64>> {
        let r: Option<(i64,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT id FROM referrals WHERE tenant_id = $1 AND reference = $2"
        )
        .bind(tenant_id)
        .bind(reference)
        .fetch_optional(p)
        .await)?;
        Ok(r.map(|r| r.0))
    }

    /// Saves what the referrer filled in. Only drafts change this way.
    pub async fn update_referral_details(&self, id: i64, d: &ReferralDetails) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE referrals SET route = COALESCE($2, route), urgency = COALESCE($3, urgency), summary = $4,
               family_aware = $5, consent_given = $6, consent_by = $7, consent_on = $8, consent_scope = $9,
               referrer_name = $10, referrer_role = $11, referrer_phone = $12, referrer_email = $13
             WHERE id = $1 AND status = 'draft'"
        )
        .bind(id)
        .bind(d.route.map(|r| r.code()))
        .bind(d.urgency.map(|u| u.code()))
        .bind(&d.summary)
        .bind(d.family_aware)
        .bind(d.consent.given)
        .bind(&d.consent.by)
        .bind(d.consent.on)
        .bind(&d.consent.scope)
        .bind(&d.referrer.name)
        .bind(&d.referrer.role)
        .bind(&d.referrer.phone)
        .bind(&d.referrer.email)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        on_pool!(self, |p| sqlx::query(
            "DELETE FROM referral_needs WHERE referral_id = $1"
        )
        .bind(id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        for need in &d.needs {
            on_pool!(self, |p| sqlx::query(
                "INSERT INTO referral_needs (referral_id, need) VALUES ($1, $2) ON CONFLICT DO NOTHING"
            )
            .bind(id)
            .bind(need)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        }
        Ok(())
    }

    pub async fn add_referral_person(
        &self,
        referral_id: i64,
        person_id: Option<i64>,
        role: MemberRole,
        d: &PersonAsGiven,
    ) -> Result<i64> {
        let (id,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "INSERT INTO referral_people (referral_id, person_id, role, given_name, family_name, date_of_birth,
               expected_delivery, sex, nhs_number, postcode, address_line)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id"
        )
        .bind(referral_id)
        .bind(person_id)
        .bind(role.code())
        .bind(d.given_name.trim())
        .bind(d.family_name.trim())
        .bind(d.date_of_birth)
        .bind(d.expected_delivery)
        .bind(d.sex.as_deref().unwrap_or(Sex::Unknown.code()))
        .bind(d.nhs_number.as_deref())
        .bind(d.postcode.as_deref())
        .bind(d.address_line.as_deref())
        .fetch_one(p)
        .await)?;
        Ok(id)
    }

    pub async fn remove_referral_person(&self, referral_id: i64, referral_person_id: i64) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "DELETE FROM referral_people WHERE referral_id = $1 AND id = $2"
        )
        .bind(referral_id)
        .bind(referral_person_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn referral_people(&self, referral_id: i64) -> Result<Vec<ReferralPerson>> {
        let rows: Vec<ReferralPersonRow> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id, referral_id, person_id, role, given_name, family_name, date_of_birth, expected_delivery, sex,
               nhs_number, postcode, address_line FROM referral_people WHERE referral_id = $1 ORDER BY id"
        )
        .bind(referral_id)
        .fetch_all(p)
        .await
        })?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Sends a draft into the triage queue: from now it is due by the tenant's rule.
    pub async fn submit_referral(&self, id: i64, user_id: Option<i64>, hub_site_id: Option<i64>) -> Result<Referral> {
        let r = self.referral(id).await?.ok_or(StoreError::NotFound)?;
        let rule = self.triage_rule(r.tenant_id).await?;
        let now = crate::now_ms();
        let changed = on_pool!(self, |p| sqlx::query(
            "UPDATE referrals SET status = 'open', received_at_ms = $2, due_at_ms = $3, hub_site_id = $4
             WHERE id = $1 AND status = 'draft'"
        )
        .bind(id)
        .bind(now)
        .bind(rule.due_ms(now))
        .bind(hub_site_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        if changed == 0 {
            return Err(StoreError::Conflict("referral already sent".into()));
        }
        self.add_referral_event(id, user_id, "received", r.route.label())
            .await?;
        self.referral(id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn add_referral_event(
        &self,
        referral_id: i64,
        user_id: Option<i64>,
        kind: &str,
        detail: &str,
    ) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "INSERT INTO referral_events (referral_id, at_ms, user_id, kind, detail) VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(referral_id)
        .bind(crate::now_ms())
        .bind(user_id)
        .bind(kind)
        .bind(detail)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn referral_events(&self, referral_id: i64) -> Result<Vec<ReferralEvent>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT e.at_ms, u.display_name AS user_name, e.kind, e.detail FROM referral_events e
             LEFT JOIN users u ON u.id = e.user_id WHERE e.referral_id = $1 ORDER BY e.at_ms, e.id"
        )
        .bind(referral_id)
        .fetch_all(p)
        .await)?)
    }

    /// Open referrals in the tenant, soonest due first, with the total that match.
    pub async fn triage_queue(
        &self,
        tenant_id: i64,
        f: &QueueFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<QueueRow>, i64)> {
        let rows = on_pool!(self, |p, DB| {
            let mut q = QueryBuilder::<DB>::new(
                "SELECT r.id, r.reference, r.route, r.urgency, r.received_at_ms, r.due_at_ms, h.name AS hub_name,
                   cu.display_name AS claimed_by_name, r.family_id,
                   (SELECT rp.given_name || ' ' || rp.family_name FROM referral_people rp
                      WHERE rp.referral_id = r.id ORDER BY rp.id LIMIT 1) AS first_person,
                   (SELECT COUNT(*) FROM referral_people rp WHERE rp.referral_id = r.id) AS people,
                   (SELECT MIN(n.need) FROM referral_needs n WHERE n.referral_id = r.id) AS needs
                 FROM referrals r
                 LEFT JOIN hub_sites h ON h.id = r.hub_site_id
                 LEFT JOIN users cu ON cu.id = r.claimed_by_user_id WHERE ",
            );
            push_queue_filter(&mut q, tenant_id, f);
            q.push(" ORDER BY r.due_at_ms, r.id LIMIT ")
                .push_bind(limit)
                .push(" OFFSET ")
                .push_bind(offset);
            q.build_query_as::<QueueRow>().fetch_all(p).await
        })?;
        let (total,): (i64,) = on_pool!(self, |p, DB| {
            let mut q = QueryBuilder::<DB>::new("SELECT COUNT(*) FROM referrals r WHERE ");
            push_queue_filter(&mut q, tenant_id, f);
            q.build_query_as::<(i64,)>().fetch_one(p).await
        })?;
        Ok((rows, total))
    }

    /// Every need of the referrals on a page of the queue, by referral.
    pub async fn needs_of_referrals(&self, ids: &[i64]) -> Result<Vec<(i64, String)>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let list = ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        Ok(on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT referral_id, need FROM referral_needs WHERE referral_id IN ({list}) ORDER BY referral_id, need"
        ))
        .fetch_all(p)
        .await)?)
    }

    /// Sets who is working on an open referral (`None` releases it).
    pub async fn claim_referral(&self, id: i64, by: Option<i64>) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE referrals SET claimed_by_user_id = $2 WHERE id = $1 AND status = 'open'"
        )
        .bind(id)
        .bind(by)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn link_referral_person(&self, referral_person_id: i64, person_id: i64) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE referral_people SET person_id = $2 WHERE id = $1"
        )
        .bind(referral_person_id)
        .bind(person_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Records triage's decision; the referral leaves the queue.
    pub async fn decide_referral(&self, id: i64, d: &NewDecision) -> Result<()> {
        let changed = on_pool!(self, |p| sqlx::query(
            "UPDATE referrals SET status = 'decided', decided_at_ms = $2, decided_by_user_id = $3, level = $4,
               outcome = $5, rationale = $6, outcome_detail = $7, outcome_organisation_id = $8, lead_user_id = $9
             WHERE id = $1 AND status = 'open'"
        )
        .bind(id)
        .bind(crate::now_ms())
        .bind(d.user_id)
        .bind(d.level.code())
        .bind(d.outcome.code())
        .bind(&d.rationale)
        .bind(&d.detail)
        .bind(d.organisation_id)
        .bind(d.lead_user_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        if changed == 0 {
            return Err(StoreError::Conflict("referral already decided".into()));
        }
        self.add_referral_event(id, Some(d.user_id), "decided", d.outcome.label())
            .await
    }

    /// The referrals a user made, newest first.
    pub async fn referrals_sent_by(&self, user_id: i64, limit: i64) -> Result<Vec<SentReferral>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT id, reference, status, received_at_ms, outcome, decided_at_ms FROM referrals
             WHERE referrer_user_id = $1 ORDER BY received_at_ms DESC, id DESC LIMIT $2"
        )
        .bind(user_id)
        .bind(limit)
        .fetch_all(p)
        .await)?)
    }

    /// People already known in the tenant who may be the person described:
    /// the NHS number exactly, then name and date of birth tolerant of typos
    /// (a day and month swapped, a misspelt or sound-alike name).
    pub async fn match_candidates(&self, tenant_id: i64, d: &PersonAsGiven, limit: usize) -> Result<Vec<Candidate>> {
        let gn = names::normalise(&d.given_name);
        let fnorm = names::normalise(&d.family_name);
        let gp = names::phonetic(&d.given_name);
        let fp = names::phonetic(&d.family_name);
        let dob = d.date_of_birth.or(d.expected_delivery);
        let swapped = dob.and_then(|x| {
            Date::from_calendar_date(x.year(), time::Month::try_from(x.day()).ok()?, u8::from(x.month())).ok()
        });
        let cols = PERSON_COLUMNS;
        // One indexed lookup per key, united: an OR across columns would scan the tenant.
        let rows: Vec<PersonRow> = on_pool!(self, |p, DB| {
            let mut q = QueryBuilder::<DB>::new(format!("SELECT {cols} FROM persons p WHERE p.id IN ("));
            let mut first = true;
            let mut part = |q: &mut QueryBuilder<'_, DB>, column: &str| {
                if !first {
                    q.push(" UNION ");
                }
                first = false;
                q.push("SELECT id FROM persons WHERE tenant_id = ")
                    .push_bind(tenant_id)
                    .push(format!(" AND {column} = "));
            };
            if let Some(n) = d.nhs_number.as_deref() {
                part(&mut q, "nhs_number");
                q.push_bind(n.to_string());
            }
            for date in [dob, swapped].into_iter().flatten() {
                part(&mut q, "date_of_birth");
                q.push_bind(date);
                part(&mut q, "expected_delivery");
                q.push_bind(date);
            }
            if !fp.is_empty() {
                part(&mut q, "family_phon");
                q.push_bind(fp.clone()).push(" AND given_phon = ").push_bind(gp.clone());
            }
            if first {
                q.push("SELECT id FROM persons WHERE 1 = 0");
            }
            q.push(") LIMIT 2000");
            q.build_query_as::<PersonRow>().fetch_all(p).await
        })?;
        let mut out: Vec<Candidate> = rows
            .into_iter()
            .map(Person::from)
            .filter_map(|person| {
                let mut score = 0.0;
                let mut reasons = vec![];
                if d.nhs_number.is_some() && person.nhs_number.map(|n| n.as_digits()) == d.nhs_number {
                    score += 10.0;
                    reasons.push("NHS number matches");
                }
                let pdob = person.date_of_birth.or(person.expected_delivery);
                if dob.is_some() && pdob == dob {
                    score += 4.0;
                    reasons.push("Date of birth matches");
                } else if swapped.is_some() && pdob == swapped {
                    score += 2.5;
                    reasons.push("Date of birth matches with day and month swapped");
                }
                let fam = names::similarity(&fnorm, &names::normalise(&person.family_name));
                let giv = names::similarity(&gn, &names::normalise(&person.given_name)).max(
                    person
                        .preferred_name
                        .as_deref()
                        .map(|p| names::similarity(&gn, &names::normalise(p)))
                        .unwrap_or(0.0),
                );
                if fam >= 0.999 && giv >= 0.999 {
                    score += 4.0;
                    reasons.push("Name matches");
                } else if fam >= 0.85 && giv >= 0.8 {
                    score += 3.0 * (fam + giv) / 2.0;
                    reasons.push("Name is similar");
                } else if names::phonetic(&person.family_name) == fp && names::phonetic(&person.given_name) == gp {
                    score += 2.0;
                    reasons.push("Name sounds alike");
                } else if fam >= 0.85 {
                    score += 1.0;
                    reasons.push("Family name is similar");
                }
                // A date alone, or a name alone, is not a match worth showing.
                (score >= 5.0).then_some(Candidate {
                    person,
                    score,
                    reasons,
                    postcode: None,
                    families: vec![],
                })
            })
            .collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.person.id.cmp(&b.person.id)));
        out.truncate(limit);
        let ids: Vec<i64> = out.iter().map(|c| c.person.id).collect();
        let addresses = self.current_addresses(&ids).await?;
        for c in &mut out {
            c.postcode = addresses.get(&c.person.id).map(|a| a.postcode.clone());
            c.families = self.current_families_of_person(c.person.id).await?;
        }
        Ok(out)
    }

    /// (family id, name) of each family the person is a current member of.
    pub async fn current_families_of_person(&self, person_id: i64) -> Result<Vec<(i64, String)>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT f.id, f.name FROM family_members m JOIN families f ON f.id = m.family_id
             WHERE m.person_id = $1 AND m.left_on IS NULL ORDER BY f.id"
        )
        .bind(person_id)
        .fetch_all(p)
        .await)?)
    }
}

fn push_queue_filter<'a, DB: sqlx::Database>(q: &mut QueryBuilder<'a, DB>, tenant_id: i64, f: &'a QueueFilter)
where
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    q.push("r.tenant_id = ")
        .push_bind(tenant_id)
        .push(" AND r.status = 'open'");
    if let Some(h) = f.hub_site_id {
        q.push(" AND r.hub_site_id = ").push_bind(h);
    }
    if let Some(route) = f.route {
        q.push(" AND r.route = ").push_bind(route.code());
    }
    if let Some(need) = &f.need {
        q.push(" AND EXISTS (SELECT 1 FROM referral_needs n WHERE n.referral_id = r.id AND n.need = ")
            .push_bind(need.clone())
            .push(")");
    }
    match f.claimed_by {
        Some(0) => {
            q.push(" AND r.claimed_by_user_id IS NULL");
        }
        Some(u) => {
            q.push(" AND r.claimed_by_user_id = ").push_bind(u);
        }
        None => {}
    }
}

impl Db {
    /// A family made at triage from a referral's people: no worker is involved
    /// yet; the open referral is triage's only basis to see it.
    /// Puts a referral's people into a family record — a new one named
    /// `New(name)`, or one that exists — in one transaction: the referral's
    /// family, a membership for each person not already a current member,
    /// the family's "last changed", the referral's timeline and the audit
    /// event. A crash leaves all of it or none, so triage never finds a
    /// family half made. Returns the family.
    pub async fn attach_referral_family(
        &self,
        referral_id: i64,
        target: ReferralFamily<'_>,
        people: &[(i64, kindred_domain::model::MemberRole)],
        on: Date,
        actor: &crate::families::Actor,
    ) -> Result<i64> {
        let now = crate::now_ms();
        Ok(on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let family_id = match target {
                ReferralFamily::New(name) => {
                    let (id,): (i64,) = sqlx::query_as(
                        "INSERT INTO families (tenant_id, name, created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $3)
                         RETURNING id",
                    )
                    .bind(actor.tenant_id)
                    .bind(name.trim())
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                    id
                }
                ReferralFamily::Existing(id) => id,
            };
            sqlx::query("UPDATE referrals SET family_id = $2 WHERE id = $1")
                .bind(referral_id)
                .bind(family_id)
                .execute(&mut *tx)
                .await?;
            for (person, role) in people {
                sqlx::query(
                    "INSERT INTO family_members (family_id, person_id, role, joined_on)
                     SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM family_members
                       WHERE family_id = $1 AND person_id = $2 AND left_on IS NULL)",
                )
                .bind(family_id)
                .bind(person)
                .bind(role.code())
                .bind(on)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query("UPDATE families SET updated_at_ms = $1 WHERE id = $2")
                .bind(now)
                .bind(family_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO referral_events (referral_id, at_ms, user_id, kind, detail) VALUES ($1, $2, $3, 'family', $4)",
            )
            .bind(referral_id)
            .bind(now)
            .bind(actor.user_id)
            .bind(format!("family {family_id}"))
            .execute(&mut *tx)
            .await?;
            let event = actor.event(
                kindred_domain::audit::AuditAction::Update,
                "family",
                family_id,
                family_id,
                "triage_of_open_referral".into(),
            );
            crate::audit::append_events!(tx, &[&event]);
            tx.commit().await?;
            Ok::<_, sqlx::Error>(family_id)
        })?)
    }

    /// Referrals about a family, newest first (for the family page).
    pub async fn referrals_of_family(&self, family_id: i64) -> Result<Vec<SentReferral>> {
        Ok(on_read!(self, |p| sqlx::query_as(
            "SELECT id, reference, status, received_at_ms, outcome, decided_at_ms FROM referrals
             WHERE family_id = $1 AND status <> 'draft' ORDER BY received_at_ms DESC, id DESC"
        )
        .bind(family_id)
        .fetch_all(p)
        .await)?)
    }
}

impl Db {
    /// (open, overdue at `now_ms`) referrals in a tenant's queue.
    pub async fn queue_counts(&self, tenant_id: i64, now_ms: i64) -> Result<(i64, i64)> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN due_at_ms < $2 THEN 1 ELSE 0 END), 0)
             FROM referrals WHERE tenant_id = $1 AND status = 'open'"
        )
        .bind(tenant_id)
        .bind(now_ms)
        .fetch_one(p)
        .await)?)
    }
}
