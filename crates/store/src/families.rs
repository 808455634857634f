//! Families (households): members and their roles, relationships between
//! persons, the team around the family with its lead professional, and each
//! organisation's recorded involvement.

use std::collections::BTreeMap;

use kindred_domain::audit::{AuditAction, NewEvent};
use kindred_domain::model::{MemberRole, OrgKind, RelationshipKind};
use time::Date;

use crate::BeginWrite;
use crate::persons::{PERSON_COLUMNS, Person, PersonRow};
use crate::{Db, Result, on_pool, on_read};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Family {
    pub id: i64,
    pub tenant_id: i64,
    pub name: String,
    pub lead_user_id: Option<i64>,
    pub updated_at_ms: i64,
}

#[derive(Debug, Clone)]
pub struct Member {
    pub membership_id: i64,
    pub person: Person,
    pub role: MemberRole,
    pub joined_on: Date,
    pub left_on: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relationship {
    pub id: i64,
    pub from_person_id: i64,
    pub to_person_id: i64,
    pub kind: RelationshipKind,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TeamMember {
    pub user_id: i64,
    pub display_name: String,
    pub profession: String,
    pub organisation_name: String,
    pub since: Date,
    pub until_date: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Involvement {
    pub id: i64,
    pub organisation_id: i64,
    pub organisation_name: String,
    pub organisation_kind: OrgKind,
    pub service: String,
    pub started_on: Date,
    pub ended_on: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LeadChange {
    pub user_id: i64,
    pub display_name: String,
    pub from_ms: i64,
    pub to_ms: Option<i64>,
}

type InvolvementRow = (i64, i64, String, String, String, Date, Option<Date>);

/// Who starts a family record, so they keep a working relationship with it.
#[derive(Debug, Clone)]
pub struct Creator {
    pub user_id: i64,
    pub organisation_id: i64,
    pub service: String,
}

/// Inserts a family inside the open transaction `$tx`, recording the
/// creator's organisation as involved and the creator in the team around the
/// family; evaluates to the family.
macro_rules! insert_family {
    ($tx:ident, $tenant:expr, $name:expr, $creator:expr, $on:expr) => {{
        let creator: &Creator = $creator;
        let on: Date = $on;
        let f = sqlx::query_as::<_, Family>(
            "INSERT INTO families (tenant_id, name, created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $3)
             RETURNING id, tenant_id, name, lead_user_id, updated_at_ms",
        )
        .bind($tenant)
        .bind($name.trim())
        .bind(crate::now_ms())
        .fetch_one(&mut *$tx)
        .await?;
        sqlx::query(
            "INSERT INTO involvements (family_id, organisation_id, service, started_on) VALUES ($1, $2, $3, $4)",
        )
        .bind(f.id)
        .bind(creator.organisation_id)
        .bind(&creator.service)
        .bind(on)
        .execute(&mut *$tx)
        .await?;
        sqlx::query("INSERT INTO team_members (family_id, user_id, since) VALUES ($1, $2, $3)")
            .bind(f.id)
            .bind(creator.user_id)
            .bind(on)
            .execute(&mut *$tx)
            .await?;
        f
    }};
}

/// A new person for a family, as the "new family" and "add a member" forms
/// give them: already checked.
#[derive(Clone)]
pub struct NewMember {
    pub details: crate::persons::PersonDetails,
    pub role: MemberRole,
    pub contact: crate::restricted::PersonContact,
    pub address: Option<crate::persons::NewAddress>,
}

/// Where a new person goes: a family started for them, or one that exists.
#[derive(Debug, Clone, Copy)]
pub enum Household<'a> {
    New { name: &'a str, creator: &'a Creator },
    Existing(i64),
}

/// Who makes a change and through which route: the change appends its own
/// audit events in its transaction, so a crash leaves both or neither.
#[derive(Debug, Clone)]
pub struct Actor {
    pub tenant_id: i64,
    pub user_id: i64,
    pub route: String,
}

impl Actor {
    /// An event by this actor about record `id` of `record_kind` in `family_id`.
    pub(crate) fn event(
        &self,
        action: AuditAction,
        record_kind: &'static str,
        id: i64,
        family_id: i64,
        detail: String,
    ) -> NewEvent {
        NewEvent {
            tenant_id: Some(self.tenant_id),
            actor_user_id: Some(self.user_id),
            action,
            record_kind,
            record_id: Some(id),
            family_id: Some(family_id),
            route: self.route.clone(),
            detail,
        }
    }

    pub(crate) fn created(&self, record_kind: &'static str, id: i64, family_id: i64, detail: String) -> NewEvent {
        self.event(AuditAction::Create, record_kind, id, family_id, detail)
    }
}

impl Db {
    /// Creates a family, recording the creator's organisation as involved and
    /// the creator as a member of the team around the family.
    pub async fn create_family(&self, tenant_id: i64, name: &str, creator: &Creator, on: Date) -> Result<Family> {
        let f = on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let f = insert_family!(tx, tenant_id, name, creator, on);
            tx.commit().await?;
            Ok::<_, sqlx::Error>(f)
        })?;
        Ok(f)
    }

    /// Adds a new person to a family, starting the family first when asked,
    /// with their contact details and address, and the audit events for what
    /// was created: all in one transaction, so a crash leaves no family
    /// without its first member and no person outside any family.
    pub async fn add_new_person(
        &self,
        household: Household<'_>,
        m: &NewMember,
        on: Date,
        actor: &Actor,
    ) -> Result<(i64, Person)> {
        let tenant_id = actor.tenant_id;
        let (family_id, row) = on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let (family_id, started) = match household {
                Household::New { name, creator } => (insert_family!(tx, tenant_id, name, creator, on).id, true),
                Household::Existing(id) => (id, false),
            };
            let person = crate::persons::insert_person!(tx, tenant_id, &m.details);
            sqlx::query("INSERT INTO family_members (family_id, person_id, role, joined_on) VALUES ($1, $2, $3, $4)")
                .bind(family_id)
                .bind(person.id)
                .bind(m.role.code())
                .bind(on)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE persons SET phone = $2, email = $3 WHERE id = $1")
                .bind(person.id)
                .bind(m.contact.phone.as_deref())
                .bind(m.contact.email.as_deref())
                .execute(&mut *tx)
                .await?;
            if let Some(a) = &m.address {
                crate::persons::insert_address!(tx, person.id, a);
            }
            sqlx::query("UPDATE families SET updated_at_ms = $1 WHERE id = $2")
                .bind(crate::now_ms())
                .bind(family_id)
                .execute(&mut *tx)
                .await?;
            let mut events = Vec::with_capacity(2);
            if started {
                events.push(actor.created("family", family_id, family_id, String::new()));
            }
            events.push(actor.created("person", person.id, family_id, String::new()));
            let refs: Vec<&NewEvent> = events.iter().collect();
            crate::audit::append_events!(tx, &refs);
            tx.commit().await?;
            Ok::<_, sqlx::Error>((family_id, person))
        })?;
        Ok((family_id, row.into()))
    }

    pub async fn family(&self, id: i64) -> Result<Family> {
        Ok(on_read!(self, |p| sqlx::query_as::<_, Family>(
            "SELECT id, tenant_id, name, lead_user_id, updated_at_ms FROM families WHERE id = $1"
        )
        .bind(id)
        .fetch_one(p)
        .await)?)
    }

    pub async fn rename_family(&self, id: i64, name: &str) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE families SET name = $1, updated_at_ms = $2 WHERE id = $3"
        )
        .bind(name.trim())
        .bind(crate::now_ms())
        .bind(id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn touch_family(&self, id: i64) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE families SET updated_at_ms = $1 WHERE id = $2"
        )
        .bind(crate::now_ms())
        .bind(id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn add_member(&self, family_id: i64, person_id: i64, role: MemberRole, joined_on: Date) -> Result<i64> {
        let (id,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
            "INSERT INTO family_members (family_id, person_id, role, joined_on) VALUES ($1, $2, $3, $4) RETURNING id"
        )
        .bind(family_id)
        .bind(person_id)
        .bind(role.code())
        .bind(joined_on)
        .fetch_one(p)
        .await
        })?;
        self.touch_family(family_id).await?;
        Ok(id)
    }

    pub async fn end_membership(&self, family_id: i64, person_id: i64, left_on: Date) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query(
                "UPDATE family_members SET left_on = $1 WHERE family_id = $2 AND person_id = $3 AND left_on IS NULL",
            )
            .bind(left_on)
            .bind(family_id)
            .bind(person_id)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        self.touch_family(family_id).await
    }

    /// Members past and present: current members first, adults before children.
    pub async fn members(&self, family_id: i64) -> Result<Vec<Member>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            membership_id: i64,
            role: String,
            joined_on: Date,
            left_on: Option<Date>,
            #[sqlx(flatten)]
            person: PersonRow,
        }
        let sql = format!(
            "SELECT m.id AS membership_id, m.role, m.joined_on, m.left_on, {PERSON_COLUMNS}
             FROM family_members m JOIN persons p ON p.id = m.person_id
             WHERE m.family_id = $1
             ORDER BY CASE WHEN m.left_on IS NULL THEN 0 ELSE 1 END, p.date_of_birth IS NULL, p.date_of_birth, m.id"
        );
        let rows = on_read!(self, |p| sqlx::query_as::<_, Row>(&sql)
            .bind(family_id)
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|r| Member {
                membership_id: r.membership_id,
                role: MemberRole::parse(&r.role).unwrap_or(MemberRole::Other),
                joined_on: r.joined_on,
                left_on: r.left_on,
                person: r.person.into(),
            })
            .collect())
    }

    /// The families a person belongs or belonged to, newest membership first.
    pub async fn families_of_person(&self, person_id: i64) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT family_id FROM family_members WHERE person_id = $1 ORDER BY joined_on DESC, id DESC")
                .bind(person_id)
                .fetch_all(p)
                .await
        })?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// [`Db::families_of_person`] for many persons at once, in the same order
    /// for each person. A person with no family has no entry.
    pub async fn families_of_persons(&self, person_ids: &[i64]) -> Result<BTreeMap<i64, Vec<i64>>> {
        let mut out: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for chunk in person_ids.chunks(500) {
            let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            let rows: Vec<(i64, i64)> = on_pool!(self, |p| {
                sqlx::query_as(&format!(
                    "SELECT person_id, family_id FROM family_members WHERE person_id IN ({list})
                     ORDER BY person_id, joined_on DESC, id DESC"
                ))
                .fetch_all(p)
                .await
            })?;
            for (person, family) in rows {
                out.entry(person).or_default().push(family);
            }
        }
        Ok(out)
    }

    pub async fn add_relationship(&self, from: i64, to: i64, kind: RelationshipKind) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "INSERT INTO relationships (from_person_id, to_person_id, kind) VALUES ($1, $2, $3)
             ON CONFLICT (from_person_id, to_person_id, kind) DO NOTHING"
        )
        .bind(from)
        .bind(to)
        .bind(kind.code())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Relationships between any two people who have been members of the family.
    pub async fn relationships(&self, family_id: i64) -> Result<Vec<Relationship>> {
        let rows: Vec<(i64, i64, i64, String)> = on_read!(self, |p| sqlx::query_as(
            "SELECT r.id, r.from_person_id, r.to_person_id, r.kind FROM relationships r
             WHERE r.from_person_id IN (SELECT person_id FROM family_members WHERE family_id = $1)
               AND r.to_person_id IN (SELECT person_id FROM family_members WHERE family_id = $1)
             ORDER BY r.id"
        )
        .bind(family_id)
        .fetch_all(p)
        .await)?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, from_person_id, to_person_id, kind)| {
                Some(Relationship {
                    id,
                    from_person_id,
                    to_person_id,
                    kind: RelationshipKind::parse(&kind)?,
                })
            })
            .collect())
    }

    pub async fn add_team_member(&self, family_id: i64, user_id: i64, since: Date) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "INSERT INTO team_members (family_id, user_id, since) VALUES ($1, $2, $3)"
        )
        .bind(family_id)
        .bind(user_id)
        .bind(since)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn end_team_member(&self, family_id: i64, user_id: i64, until: Date) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query(
                "UPDATE team_members SET until_date = $1 WHERE family_id = $2 AND user_id = $3 AND until_date IS NULL",
            )
            .bind(until)
            .bind(family_id)
            .bind(user_id)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    pub async fn team(&self, family_id: i64) -> Result<Vec<TeamMember>> {
        Ok(on_read!(self, |p| {
            sqlx::query_as::<_, TeamMember>(
                "SELECT t.user_id, u.display_name, u.profession, o.name AS organisation_name, t.since, t.until_date
             FROM team_members t JOIN users u ON u.id = t.user_id JOIN organisations o ON o.id = u.organisation_id
             WHERE t.family_id = $1 ORDER BY CASE WHEN t.until_date IS NULL THEN 0 ELSE 1 END, t.since",
            )
            .bind(family_id)
            .fetch_all(p)
            .await
        })?)
    }

    /// Makes `user_id` the lead professional, closing the previous lead's period.
    /// The new lead joins the team around the family if not already in it.
    pub async fn set_lead(&self, family_id: i64, user_id: i64, on: Date) -> Result<()> {
        let now = crate::now_ms();
        on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("UPDATE lead_history SET to_ms = $1 WHERE family_id = $2 AND to_ms IS NULL")
                .bind(now)
                .bind(family_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO lead_history (family_id, user_id, from_ms) VALUES ($1, $2, $3)")
                .bind(family_id)
                .bind(user_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE families SET lead_user_id = $1, updated_at_ms = $2 WHERE id = $3")
                .bind(user_id)
                .bind(now)
                .bind(family_id)
                .execute(&mut *tx)
                .await?;
            let (in_team,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM team_members WHERE family_id = $1 AND user_id = $2 AND until_date IS NULL",
            )
            .bind(family_id)
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
            if in_team == 0 {
                sqlx::query("INSERT INTO team_members (family_id, user_id, since) VALUES ($1, $2, $3)")
                    .bind(family_id)
                    .bind(user_id)
                    .bind(on)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }

    pub async fn lead_history(&self, family_id: i64) -> Result<Vec<LeadChange>> {
        Ok(on_read!(self, |p| {
            sqlx::query_as::<_, LeadChange>(
            "SELECT h.user_id, u.display_name, h.from_ms, h.to_ms FROM lead_history h JOIN users u ON u.id = h.user_id
             WHERE h.family_id = $1 ORDER BY h.from_ms DESC, h.id DESC"
        )
        .bind(family_id)
        .fetch_all(p)
        .await
        })?)
    }

    pub async fn add_involvement(
        &self,
        family_id: i64,
        organisation_id: i64,
        service: &str,
        started_on: Date,
    ) -> Result<i64> {
        let (id,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
            "INSERT INTO involvements (family_id, organisation_id, service, started_on) VALUES ($1, $2, $3, $4) RETURNING id"
        )
        .bind(family_id)
        .bind(organisation_id)
        .bind(service.trim())
        .bind(started_on)
        .fetch_one(p)
        .await
        })?;
        Ok(id)
    }

    pub async fn end_involvement(&self, involvement_id: i64, ended_on: Date) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE involvements SET ended_on = $1 WHERE id = $2"
        )
        .bind(ended_on)
        .bind(involvement_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Every involvement, open ones first: "who is involved, since when".
    pub async fn involvements(&self, family_id: i64) -> Result<Vec<Involvement>> {
        let rows: Vec<InvolvementRow> = on_read!(self, |p| {
            sqlx::query_as(
                "SELECT i.id, i.organisation_id, o.name, o.kind, i.service, i.started_on, i.ended_on
             FROM involvements i JOIN organisations o ON o.id = i.organisation_id
             WHERE i.family_id = $1 ORDER BY CASE WHEN i.ended_on IS NULL THEN 0 ELSE 1 END, i.started_on",
            )
            .bind(family_id)
            .fetch_all(p)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(
                |(id, organisation_id, organisation_name, kind, service, started_on, ended_on)| Involvement {
                    id,
                    organisation_id,
                    organisation_name,
                    organisation_kind: OrgKind::parse(&kind).unwrap_or(OrgKind::Vcs),
                    service,
                    started_on,
                    ended_on,
                },
            )
            .collect())
    }

    /// Records a professional referral about a known family, straight into
    /// the triage queue (the front door's full flow is in `referrals`).
    pub async fn open_referral(&self, tenant_id: i64, family_id: i64) -> Result<i64> {
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let now = crate::now_ms();
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // An odd multiplier is a bijection on 40 bits: distinct inputs, distinct references.
        let seed = ((now as u64) << 12 ^ n).wrapping_mul(0x9E37_79B9) & 0xFF_FFFF_FFFF;
        let rule = self.triage_rule(tenant_id).await?;
        let (id,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
                "INSERT INTO referrals (tenant_id, reference, route, family_id, status, received_at_ms, due_at_ms)
                 VALUES ($1, $2, 'professional', $3, 'open', $4, $5) RETURNING id",
            )
            .bind(tenant_id)
            .bind(kindred_domain::referral::reference(seed))
            .bind(family_id)
            .bind(now)
            .bind(rule.due_ms(now))
            .fetch_one(p)
            .await
        })?;
        Ok(id)
    }

    pub async fn close_referral(&self, referral_id: i64) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE referrals SET status = 'decided' WHERE id = $1"
        )
        .bind(referral_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// What a family page needs to tell whether needs add up: each need recorded
/// on a referral sent (not a draft) since a time, and each open flag, with the
/// organisation that recorded it (none for a family's own request).
#[derive(Debug, Clone, Default)]
pub struct RecordedNeeds {
    /// (need code, organisation)
    pub referral_needs: Vec<(String, Option<i64>)>,
    /// (flag kind, organisation of whoever raised it)
    pub flags: Vec<(String, Option<i64>)>,
}

impl Db {
    pub async fn recorded_needs(&self, family_id: i64, since_ms: i64) -> Result<RecordedNeeds> {
        let referral_needs: Vec<(String, Option<i64>)> = on_read!(self, |p| {
            sqlx::query_as(
            "SELECT n.need, r.referrer_organisation_id FROM referrals r JOIN referral_needs n ON n.referral_id = r.id
             WHERE r.family_id = $1 AND r.status <> 'draft' AND r.received_at_ms >= $2"
        )
        .bind(family_id)
        .bind(since_ms)
        .fetch_all(p)
        .await
        })?;
        let flags: Vec<(String, Option<i64>)> = on_read!(self, |p| sqlx::query_as(
            "SELECT f.kind, u.organisation_id FROM flags f LEFT JOIN users u ON u.id = f.raised_by_user_id
             WHERE f.family_id = $1 AND f.ended_on IS NULL"
        )
        .bind(family_id)
        .fetch_all(p)
        .await)?;
        Ok(RecordedNeeds { referral_needs, flags })
    }
}
