//! The 360° profile: for every current member of a family, what every agency
//! has had to do with them over a period — involvements, contacts counted per
//! service, flags, referrals and episodes. Counts and dates only: no note text
//! leaves this module.

use std::collections::BTreeMap;

use kindred_domain::model::OrgKind;
use time::Date;

use crate::{Db, Result, on_pool};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceContacts {
    pub organisation_id: i64,
    pub organisation_name: String,
    pub kind: OrgKind,
    pub contacts: i64,
    pub first: Date,
    pub last: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProfileInvolvement {
    /// The family member this line is about.
    pub person_id: i64,
    pub family_id: i64,
    pub organisation_name: String,
    pub kind: String,
    pub service: String,
    pub started_on: Date,
    pub ended_on: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProfileFlag {
    /// The family member this line is about.
    pub person_id: i64,
    pub kind: String,
    pub description: String,
    pub raised_on: Date,
    pub ended_on: Option<Date>,
    pub organisation_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProfileReferral {
    /// The family member this line is about.
    pub person_id: i64,
    pub id: i64,
    pub reference: String,
    pub route: String,
    pub status: String,
    pub received_at_ms: i64,
    pub outcome: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProfileEpisode {
    /// The family member this line is about.
    pub person_id: i64,
    pub id: i64,
    pub family_id: i64,
    pub level: String,
    pub status: String,
    pub opened_on: Date,
    pub closed_on: Option<Date>,
    pub lead_name: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct MemberProfile {
    pub services: Vec<ServiceContacts>,
    pub involvements: Vec<ProfileInvolvement>,
    pub flags: Vec<ProfileFlag>,
    pub referrals: Vec<ProfileReferral>,
    pub episodes: Vec<ProfileEpisode>,
}

impl Db {
    #[allow(clippy::too_many_arguments)]
    pub async fn add_flag(
        &self,
        tenant_id: i64,
        family_id: i64,
        person_id: Option<i64>,
        kind: &str,
        description: &str,
        by: Option<i64>,
        on: Date,
    ) -> Result<i64> {
        let (id,): (i64,) = on_pool!(self, |p| sqlx::query_as(crate::flags::INSERT_FLAG)
            .bind(tenant_id)
            .bind(family_id)
            .bind(person_id)
            .bind(kind)
            .bind(description)
            .bind(by)
            .bind(on)
            .fetch_one(p)
            .await)?;
        Ok(id)
    }

    /// How many contacts since `since` had at least one current member of the
    /// family present, in any of their families: each contact counted once.
    pub async fn member_contact_total(&self, family_id: i64, since: Date) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "SELECT COUNT(DISTINCT c.id) FROM family_members m
             JOIN contact_people cp ON cp.person_id = m.person_id
             JOIN contacts c ON c.id = cp.contact_id
             WHERE m.family_id = $1 AND m.left_on IS NULL AND c.occurred_on >= $2"
        )
        .bind(family_id)
        .bind(since)
        .fetch_one(p)
        .await)?;
        Ok(n)
    }

    /// The 360° profile of each current member of a family since `since`, by person id.
    /// Everything is gathered across all the families each member belongs to.
    pub async fn profile(&self, family_id: i64, since: Date) -> Result<BTreeMap<i64, MemberProfile>> {
        let mut out: BTreeMap<i64, MemberProfile> = BTreeMap::new();
        let members: Vec<(i64,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT person_id FROM family_members WHERE family_id = $1 AND left_on IS NULL"
        )
        .bind(family_id)
        .fetch_all(p)
        .await)?;
        for (m,) in &members {
            out.entry(*m).or_default();
        }
        // Contacts the person was present at, per organisation, in any family.
        let services: Vec<(i64, i64, String, String, i64, Date, Date)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT cp.person_id, c.organisation_id, o.name, o.kind, COUNT(*), MIN(c.occurred_on), MAX(c.occurred_on)
             FROM family_members m
             JOIN contact_people cp ON cp.person_id = m.person_id
             JOIN contacts c ON c.id = cp.contact_id
             JOIN organisations o ON o.id = c.organisation_id
             WHERE m.family_id = $1 AND m.left_on IS NULL AND c.occurred_on >= $2
             GROUP BY cp.person_id, c.organisation_id, o.name, o.kind
             ORDER BY cp.person_id, o.name"
        )
        .bind(family_id)
        .bind(since)
        .fetch_all(p)
        .await
        })?;
        for (person, org, name, kind, contacts, first, last) in services {
            out.entry(person).or_default().services.push(ServiceContacts {
                organisation_id: org,
                organisation_name: name,
                kind: OrgKind::parse(&kind).unwrap_or(OrgKind::Vcs),
                contacts,
                first,
                last,
            });
        }
        // Involvements open during the period, in every family of the person.
        let involvements: Vec<ProfileInvolvement> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT DISTINCT m.person_id, i.family_id, o.name AS organisation_name, o.kind, i.service, i.started_on,
               i.ended_on
             FROM family_members m
             JOIN family_members m2 ON m2.person_id = m.person_id
             JOIN involvements i ON i.family_id = m2.family_id
             JOIN organisations o ON o.id = i.organisation_id
             WHERE m.family_id = $1 AND m.left_on IS NULL AND (i.ended_on IS NULL OR i.ended_on >= $2)
             ORDER BY m.person_id, i.started_on"
        )
        .bind(family_id)
        .bind(since)
        .fetch_all(p)
        .await
        })?;
        for x in involvements {
            out.entry(x.person_id).or_default().involvements.push(x);
        }
        // Flags on the person, or on a family of theirs as a whole.
        let flags: Vec<ProfileFlag> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT DISTINCT m.person_id, fl.kind, fl.description, fl.raised_on, fl.ended_on, o.name AS organisation_name
             FROM family_members m
             JOIN family_members m2 ON m2.person_id = m.person_id
             JOIN flags fl ON fl.family_id = m2.family_id AND (fl.person_id IS NULL OR fl.person_id = m.person_id)
             LEFT JOIN users u ON u.id = fl.raised_by_user_id
             LEFT JOIN organisations o ON o.id = u.organisation_id
             WHERE m.family_id = $1 AND m.left_on IS NULL AND (fl.ended_on IS NULL OR fl.ended_on >= $2)
             ORDER BY m.person_id, fl.raised_on"
        )
        .bind(family_id)
        .bind(since)
        .fetch_all(p)
        .await
        })?;
        for x in flags {
            out.entry(x.person_id).or_default().flags.push(x);
        }
        // Referrals naming the person, or about a family of theirs, received in the period.
        let since_ms = since.midnight().assume_utc().unix_timestamp() * 1000;
        let referrals: Vec<ProfileReferral> = on_pool!(self, |p| sqlx::query_as(
            "SELECT m.person_id, r.id, r.reference, r.route, r.status, r.received_at_ms, r.outcome
             FROM family_members m
             JOIN family_members m2 ON m2.person_id = m.person_id
             JOIN referrals r ON r.family_id = m2.family_id
             WHERE m.family_id = $1 AND m.left_on IS NULL AND r.status <> 'draft' AND r.received_at_ms >= $2
             UNION
             SELECT m.person_id, r.id, r.reference, r.route, r.status, r.received_at_ms, r.outcome
             FROM family_members m
             JOIN referral_people rp ON rp.person_id = m.person_id
             JOIN referrals r ON r.id = rp.referral_id
             WHERE m.family_id = $1 AND m.left_on IS NULL AND r.status <> 'draft' AND r.received_at_ms >= $2
             ORDER BY 1, 6 DESC"
        )
        .bind(family_id)
        .bind(since_ms)
        .fetch_all(p)
        .await)?;
        for x in referrals {
            out.entry(x.person_id).or_default().referrals.push(x);
        }
        let episodes: Vec<ProfileEpisode> = on_pool!(self, |p| sqlx::query_as(
            "SELECT DISTINCT m.person_id, e.id, e.family_id, e.level, e.status, e.opened_on, e.closed_on,
               u.display_name AS lead_name
             FROM family_members m
             JOIN family_members m2 ON m2.person_id = m.person_id
             JOIN episodes e ON e.family_id = m2.family_id
             LEFT JOIN users u ON u.id = e.lead_user_id
             WHERE m.family_id = $1 AND m.left_on IS NULL AND (e.closed_on IS NULL OR e.closed_on >= $2)
             ORDER BY m.person_id, e.opened_on DESC"
        )
        .bind(family_id)
        .bind(since)
        .fetch_all(p)
        .await)?;
        for x in episodes {
            out.entry(x.person_id).or_default().episodes.push(x);
        }
        Ok(out)
    }
}
