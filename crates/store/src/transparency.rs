//! Transparency: who viewed a person's records, the privacy officer's audit
//! search, the tenant's redaction rules, and everything held about one
//! person for a subject access request (`domain::redaction::Source`).
//!
//! Reads of `audit_events` only; nothing here decides who may see what.

use std::collections::{BTreeMap, BTreeSet};

use kindred_domain::audit::{AuditAction, Event};
use kindred_domain::dates;
use kindred_domain::model::{ContactMode, FlagKind, MemberRole, OrgKind, Profession, RelationshipKind};
use kindred_domain::redaction::{
    AddressEntry, Identity, Membership, Owner, PreviousName, Source, SourceAccess, SourceAction, SourceConsent,
    SourceContact, SourceDocument, SourceEpisode, SourceFlag, SourceGoal, SourceReferral, SourceRelationship, Staff,
    ThirdParty,
};
use kindred_domain::transparency;
use time::Date;

use crate::audit::{EVENT_COLUMNS, EventRow};
use crate::{Db, Result, on_pool};

/// An audit event with who did it.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub event: Event,
    pub actor_name: Option<String>,
    pub actor_email: Option<String>,
    /// The actor's profession code.
    pub actor_profession: Option<String>,
    /// The actor's roles (comma-separated codes).
    pub actor_roles: Option<String>,
    pub actor_organisation: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    #[sqlx(flatten)]
    event: EventRow,
    actor_name: Option<String>,
    actor_email: Option<String>,
    actor_profession: Option<String>,
    actor_roles: Option<String>,
    actor_organisation: Option<String>,
}

impl From<Row> for AuditRow {
    fn from(r: Row) -> Self {
        AuditRow {
            event: r.event.into(),
            actor_name: r.actor_name,
            actor_email: r.actor_email,
            actor_profession: r.actor_profession,
            actor_roles: r.actor_roles,
            actor_organisation: r.actor_organisation,
        }
    }
}

/// Events with who did them: `{SELECT} WHERE ...`.
static SELECT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {EVENT_COLUMNS}, u.display_name AS actor_name, u.email AS actor_email,
         u.profession AS actor_profession, u.roles AS actor_roles, o.name AS actor_organisation
         FROM audit_events e LEFT JOIN users u ON u.id = e.actor_user_id
         LEFT JOIN organisations o ON o.id = u.organisation_id"
    )
});

/// The privacy officer's audit search: every filter is optional but the tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub tenant_id: i64,
    pub actor_user_id: Option<i64>,
    pub record_kind: Option<String>,
    pub record_id: Option<i64>,
    pub family_id: Option<i64>,
    /// Inclusive, unix ms.
    pub from_ms: Option<i64>,
    /// Exclusive, unix ms.
    pub to_ms: Option<i64>,
    pub action: Option<String>,
}

enum Bind {
    I(i64),
    S(String),
}

impl AuditFilter {
    fn condition(&self) -> (String, Vec<Bind>) {
        let mut binds = vec![Bind::I(self.tenant_id)];
        let mut cond = vec!["e.tenant_id = $1".to_string()];
        let mut add = |c: &str, b: Bind, binds: &mut Vec<Bind>| {
            binds.push(b);
            cond.push(c.replace('?', &format!("${}", binds.len())));
        };
        if let Some(u) = self.actor_user_id {
            add("e.actor_user_id = ?", Bind::I(u), &mut binds);
        }
        if let Some(k) = &self.record_kind {
            add("e.record_kind = ?", Bind::S(k.clone()), &mut binds);
        }
        if let Some(r) = self.record_id {
            add("e.record_id = ?", Bind::I(r), &mut binds);
        }
        if let Some(f) = self.family_id {
            add("e.family_id = ?", Bind::I(f), &mut binds);
        }
        if let Some(t) = self.from_ms {
            add("e.at_ms >= ?", Bind::I(t), &mut binds);
        }
        if let Some(t) = self.to_ms {
            add("e.at_ms < ?", Bind::I(t), &mut binds);
        }
        if let Some(a) = &self.action {
            add("e.action = ?", Bind::S(a.clone()), &mut binds);
        }
        (cond.join(" AND "), binds)
    }
}

/// A membership window in unix ms: [from, to).
fn windows(memberships: &[(i64, Date, Option<Date>)]) -> Vec<(i64, i64, Option<i64>)> {
    memberships
        .iter()
        .map(|(f, joined, left)| {
            (
                *f,
                transparency::start_of_day_ms(*joined),
                left.and_then(|d| d.next_day()).map(transparency::start_of_day_ms),
            )
        })
        .collect()
}

impl Db {
    /// The audit search, newest first, and how many events match.
    pub async fn audit_search(&self, f: &AuditFilter, limit: i64, offset: i64) -> Result<(Vec<AuditRow>, i64)> {
        let (cond, binds) = f.condition();
        let sql = format!(
            "{} WHERE {cond} ORDER BY e.seq DESC LIMIT {limit} OFFSET {offset}",
            *SELECT
        );
        let count_sql = format!("SELECT COUNT(*) FROM audit_events e WHERE {cond}");
        let rows: Vec<Row> = on_pool!(self, |p| {
            let mut q = sqlx::query_as::<_, Row>(&sql);
            for b in &binds {
                q = match b {
                    Bind::I(v) => q.bind(*v),
                    Bind::S(s) => q.bind(s.clone()),
                };
            }
            q.fetch_all(p).await
        })?;
        let (total,): (i64,) = on_pool!(self, |p| {
            let mut q = sqlx::query_as::<_, (i64,)>(&count_sql);
            for b in &binds {
                q = match b {
                    Bind::I(v) => q.bind(*v),
                    Bind::S(s) => q.bind(s.clone()),
                };
            }
            q.fetch_one(p).await
        })?;
        Ok((rows.into_iter().map(Into::into).collect(), total))
    }

    /// Events about one family, newest first, with who did them.
    pub async fn family_audit_rows(&self, family_id: i64, limit: i64) -> Result<Vec<AuditRow>> {
        let sql = format!("{} WHERE e.family_id = $1 ORDER BY e.seq DESC LIMIT $2", *SELECT);
        let rows: Vec<Row> = on_pool!(self, |p| sqlx::query_as::<_, Row>(&sql)
            .bind(family_id)
            .bind(limit)
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// A person's memberships: (family id, joined, left).
    pub async fn memberships_of_person(&self, person_id: i64) -> Result<Vec<(i64, Date, Option<Date>)>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT family_id, joined_on, left_on FROM family_members WHERE person_id = $1 ORDER BY joined_on, id"
        )
        .bind(person_id)
        .fetch_all(p)
        .await)?)
    }

    /// Who viewed a person's records, newest first: events whose record is
    /// the person (or a subject access request about them), and events about
    /// any family of theirs while they were a member of it.
    pub async fn person_audit_rows(&self, person_id: i64, limit: i64) -> Result<Vec<AuditRow>> {
        let memberships = self.memberships_of_person(person_id).await?;
        // Ids and instants are i64 read from the database: safe to inline.
        let mut cond = vec!["(e.record_kind IN ('person', 'sar') AND e.record_id = $1)".to_string()];
        for (f, from, to) in windows(&memberships) {
            cond.push(match to {
                Some(to) => format!("(e.family_id = {f} AND e.at_ms >= {from} AND e.at_ms < {to})"),
                None => format!("(e.family_id = {f} AND e.at_ms >= {from})"),
            });
        }
        let sql = format!("{} WHERE {} ORDER BY e.seq DESC LIMIT $2", *SELECT, cond.join(" OR "));
        let rows: Vec<Row> = on_pool!(self, |p| sqlx::query_as::<_, Row>(&sql)
            .bind(person_id)
            .bind(limit)
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// A tenant's stored redaction choices: (rule code, enabled).
    pub async fn redaction_rules(&self, tenant_id: i64) -> Result<Vec<(String, bool)>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT rule, enabled FROM redaction_rules WHERE tenant_id = $1 ORDER BY rule"
        )
        .bind(tenant_id)
        .fetch_all(p)
        .await)?)
    }

    pub async fn set_redaction_rule(&self, tenant_id: i64, rule: &str, enabled: bool) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "INSERT INTO redaction_rules (tenant_id, rule, enabled) VALUES ($1, $2, $3)
             ON CONFLICT (tenant_id, rule) DO UPDATE SET enabled = excluded.enabled"
        )
        .bind(tenant_id)
        .bind(rule)
        .bind(enabled)
        .execute(p)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// The person with this NHS number (ten digits) in the tenant, if one.
    pub async fn person_by_nhs_number(&self, tenant_id: i64, digits: &str) -> Result<Option<i64>> {
        let row: Option<(i64,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT id FROM persons WHERE tenant_id = $1 AND nhs_number = $2 ORDER BY id LIMIT 1"
        )
        .bind(tenant_id)
        .bind(digits)
        .fetch_optional(p)
        .await)?;
        Ok(row.map(|r| r.0))
    }

    /// The tenant a person belongs to, if the person exists.
    pub async fn person_tenant(&self, person_id: i64) -> Result<Option<i64>> {
        let row: Option<(i64,)> = on_pool!(self, |p| sqlx::query_as("SELECT tenant_id FROM persons WHERE id = $1")
            .bind(person_id)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(|r| r.0))
    }

    /// A parent or carer of the family who was present at contacts, those
    /// with consents first: a subject access request worth reading (the demo).
    pub async fn sar_candidate(&self, family_id: i64) -> Result<Option<(i64, String)>> {
        let row: Option<(i64, String, String)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT p.id, p.given_name, p.family_name FROM family_members fm JOIN persons p ON p.id = fm.person_id
             WHERE fm.family_id = $1 AND fm.role IN ('parent', 'carer') AND fm.left_on IS NULL
               AND EXISTS (SELECT 1 FROM contact_people cp WHERE cp.person_id = p.id)
             ORDER BY (SELECT COUNT(*) FROM consents c WHERE c.person_id = p.id) DESC, p.id LIMIT 1"
        )
        .bind(family_id)
        .fetch_optional(p)
        .await)?;
        Ok(row.map(|(id, g, f)| (id, format!("{g} {f}"))))
    }

    /// Everyone on the staff of the deployment: id → (name, role, organisation).
    async fn staff_map(&self) -> Result<BTreeMap<i64, Staff>> {
        let rows: Vec<(i64, String, String, String)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT u.id, u.display_name, u.profession, o.name FROM users u JOIN organisations o ON o.id = u.organisation_id"
        )
        .fetch_all(p)
        .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(id, name, prof, org)| {
                (
                    id,
                    Staff {
                        name,
                        role: Profession::parse(&prof).map(|p| p.label().to_string()).unwrap_or(prof),
                        organisation: org,
                    },
                )
            })
            .collect())
    }

    /// Everything held about one person, unredacted, for a subject access
    /// request. The caller sets who answers and when.
    #[allow(clippy::type_complexity)]
    pub async fn subject_access_source(&self, person_id: i64) -> Result<Source> {
        let staff = self.staff_map().await?;
        let who = |id: Option<i64>| id.and_then(|i| staff.get(&i).cloned());
        let p = self.person(person_id).await?;
        let tenant = self.tenant(p.tenant_id).await?;
        let (phone, email): (Option<String>, Option<String>) = on_pool!(self, |pool| sqlx::query_as(
            "SELECT phone, email FROM persons WHERE id = $1"
        )
        .bind(person_id)
        .fetch_one(pool)
        .await)?;
        let previous = self.previous_names(person_id).await?;
        let identity = Identity {
            given_name: p.given_name.clone(),
            family_name: p.family_name.clone(),
            preferred_name: p.preferred_name.clone().unwrap_or_default(),
            previous_names: previous
                .iter()
                .map(|n| PreviousName {
                    name: format!("{} {}", n.given_name, n.family_name),
                    until: opt(n.until_date),
                })
                .collect(),
            date_of_birth: opt(p.date_of_birth),
            expected_delivery: opt(p.expected_delivery),
            sex: p.sex.label().into(),
            nhs_number: p.nhs_number.map(|n| n.to_string()).unwrap_or_default(),
            upn: p.upn.as_ref().map(|u| u.as_str().to_string()).unwrap_or_default(),
            language: p.language.clone().unwrap_or_default(),
            interpreter_needed: p.interpreter_needed,
            send: p.send,
            phone: phone.unwrap_or_default(),
            email: email.unwrap_or_default(),
        };
        let addresses = self
            .addresses(person_id)
            .await?
            .into_iter()
            .map(|a| AddressEntry {
                address: address_text(&a),
                from: dates::iso(a.from_date),
                to: opt(a.to_date),
            })
            .collect();

        // Families and roles.
        let member_rows: Vec<(i64, String, String, Date, Option<Date>)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT fm.family_id, f.name, fm.role, fm.joined_on, fm.left_on FROM family_members fm
             JOIN families f ON f.id = fm.family_id WHERE fm.person_id = $1 ORDER BY fm.joined_on, fm.id"
        )
        .bind(person_id)
        .fetch_all(pool)
        .await)?;
        let families: Vec<Membership> = member_rows
            .iter()
            .map(|(id, name, role, joined, left)| Membership {
                family_id: *id,
                family: name.clone(),
                role: MemberRole::parse(role)
                    .map(|r| r.label().to_string())
                    .unwrap_or(role.clone()),
                joined_on: dates::iso(*joined),
                left_on: opt(*left),
            })
            .collect();
        let family_names: BTreeMap<i64, String> = member_rows.iter().map(|r| (r.0, r.1.clone())).collect();
        let fam_ids: Vec<i64> = family_names.keys().copied().collect();
        // Ids are i64 from the database: safe to inline.
        let fam_list = if fam_ids.is_empty() {
            "-1".to_string()
        } else {
            fam_ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",")
        };
        let fname = |id: i64| family_names.get(&id).cloned().unwrap_or_default();

        // Everyone else who appears: the members of their families, and below.
        let mut others: BTreeSet<i64> = BTreeSet::new();
        let co_members: Vec<(i64,)> = on_pool!(self, |pool| sqlx::query_as(&format!(
            "SELECT DISTINCT person_id FROM family_members WHERE family_id IN ({fam_list})"
        ))
        .fetch_all(pool)
        .await)?;
        others.extend(co_members.into_iter().map(|r| r.0));

        // Relationships.
        let rels: Vec<(i64, i64, String)> = on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT from_person_id, to_person_id, kind FROM relationships WHERE from_person_id = $1 OR to_person_id = $1
             ORDER BY id"
        )
        .bind(person_id)
        .fetch_all(pool)
        .await
        })?;
        let relationships = rels
            .iter()
            .map(|(from, to, kind)| {
                let subject_is_from = *from == person_id;
                let other = if subject_is_from { *to } else { *from };
                others.insert(other);
                SourceRelationship {
                    kind: RelationshipKind::parse(kind)
                        .map(|k| k.label().to_string())
                        .unwrap_or(kind.clone()),
                    subject_is_from,
                    other,
                }
            })
            .collect();

        // Consents.
        #[derive(sqlx::FromRow)]
        struct ConsentRow {
            id: i64,
            given_by_person_id: Option<i64>,
            competence_judgement: Option<String>,
            purpose: String,
            all_partners: bool,
            given_on: Date,
            withdrawn_on: Option<Date>,
            method: String,
            evidence: String,
            recorded_by_user_id: i64,
        }
        let consent_rows: Vec<ConsentRow> = on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT id, given_by_person_id, competence_judgement, purpose, all_partners, given_on, withdrawn_on, method,
               evidence, recorded_by_user_id FROM consents WHERE person_id = $1 ORDER BY given_on, id"
        )
        .bind(person_id)
        .fetch_all(pool)
        .await
        })?;
        let own_purposes: Vec<(String, String)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT code, label FROM consent_purposes WHERE tenant_id = $1"
        )
        .bind(p.tenant_id)
        .fetch_all(pool)
        .await)?;
        let mut consents = vec![];
        for c in consent_rows {
            let scopes: Vec<(Option<String>, Option<String>)> = on_pool!(self, |pool| {
                sqlx::query_as(
                "SELECT o.name, s.org_kind FROM consent_scopes s LEFT JOIN organisations o ON o.id = s.organisation_id
                 WHERE s.consent_id = $1"
            )
            .bind(c.id)
            .fetch_all(pool)
            .await
            })?;
            let scope = if c.all_partners {
                "All partners".to_string()
            } else {
                scopes
                    .into_iter()
                    .map(|(org, kind)| match (org, kind) {
                        (Some(o), _) => o,
                        (None, Some(k)) => OrgKind::parse(&k).map(|k| k.label().to_string()).unwrap_or(k),
                        _ => String::new(),
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            if let Some(g) = c.given_by_person_id {
                others.insert(g);
            }
            consents.push(SourceConsent {
                purpose: kindred_domain::sharing::purpose_label(&c.purpose, &own_purposes).to_string(),
                scope,
                given_on: dates::iso(c.given_on),
                withdrawn_on: opt(c.withdrawn_on),
                method: kindred_domain::sharing::ConsentMethod::parse(&c.method)
                    .map(|m| m.label().to_string())
                    .unwrap_or(c.method.clone()),
                evidence: c.evidence,
                given_by: c.given_by_person_id,
                competence_judgement: c.competence_judgement.unwrap_or_default(),
                recorded_by: who(Some(c.recorded_by_user_id)),
            });
        }

        // Referrals naming them.
        #[derive(sqlx::FromRow)]
        struct ReferralRow {
            id: i64,
            reference: String,
            received_at_ms: i64,
            status: String,
            role: String,
            route: String,
            organisation: Option<String>,
            summary: String,
            outcome: Option<String>,
            rationale: Option<String>,
        }
        let referral_rows: Vec<ReferralRow> = on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT r.id, r.reference, r.received_at_ms, r.status, rp.role, r.route, o.name AS organisation, r.summary,
               r.outcome, r.rationale
             FROM referral_people rp JOIN referrals r ON r.id = rp.referral_id
             LEFT JOIN organisations o ON o.id = r.referrer_organisation_id
             WHERE rp.person_id = $1 ORDER BY r.received_at_ms, r.id"
        )
        .bind(person_id)
        .fetch_all(pool)
        .await
        })?;
        let mut third_parties: Vec<ThirdParty> = vec![];
        let mut referrals = vec![];
        for r in referral_rows {
            let needs: Vec<(String,)> = on_pool!(self, |pool| sqlx::query_as(
                "SELECT need FROM referral_needs WHERE referral_id = $1 ORDER BY need"
            )
            .bind(r.id)
            .fetch_all(pool)
            .await)?;
            #[derive(sqlx::FromRow)]
            struct PersonOnReferral {
                id: i64,
                person_id: Option<i64>,
                given_name: String,
                family_name: String,
                date_of_birth: Option<Date>,
                nhs_number: Option<String>,
                postcode: Option<String>,
                address_line: Option<String>,
            }
            let people: Vec<PersonOnReferral> = on_pool!(self, |pool| sqlx::query_as(
                "SELECT id, person_id, given_name, family_name, date_of_birth, nhs_number, postcode, address_line
                 FROM referral_people WHERE referral_id = $1 ORDER BY id"
            )
            .bind(r.id)
            .fetch_all(pool)
            .await)?;
            let mut named = vec![];
            for rp in people {
                if rp.person_id == Some(person_id) {
                    continue;
                }
                // As described on the referral, linked or not.
                let key = -rp.id;
                third_parties.push(ThirdParty {
                    key,
                    names: vec![format!("{} {}", rp.given_name, rp.family_name)],
                    dates_of_birth: rp.date_of_birth.map(dates::iso).into_iter().collect(),
                    nhs_numbers: rp.nhs_number.into_iter().collect(),
                    address_parts: rp.address_line.into_iter().chain(rp.postcode).collect(),
                });
                if let Some(linked) = rp.person_id {
                    others.insert(linked);
                    named.push(linked);
                } else {
                    named.push(key);
                }
            }
            referrals.push(SourceReferral {
                reference: r.reference,
                received_on: transparency::iso_utc(r.received_at_ms)[..10].to_string(),
                status: label(&r.status),
                named_as: label(&r.role),
                referred_by: match r.organisation {
                    Some(o) => o,
                    None if r.route == "self" => "Self-referral".into(),
                    None => label(&r.route),
                },
                summary: r.summary,
                needs: needs.into_iter().map(|n| label(&n.0)).collect(),
                outcome: r.outcome.map(|o| label(&o)).unwrap_or_default(),
                rationale: r.rationale.unwrap_or_default(),
                others: named,
            });
        }

        // Contacts they were present at.
        #[derive(sqlx::FromRow)]
        struct ContactRow {
            id: i64,
            occurred_on: Date,
            mode: String,
            visibility: String,
            organisation_id: i64,
            organisation: String,
            author_user_id: i64,
            body: String,
        }
        let contact_rows: Vec<ContactRow> = on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT c.id, c.occurred_on, c.mode, c.visibility, c.organisation_id, o.name AS organisation, c.author_user_id,
               c.body
             FROM contact_people cp JOIN contacts c ON c.id = cp.contact_id JOIN organisations o ON o.id = c.organisation_id
             WHERE cp.person_id = $1 ORDER BY c.occurred_on, c.id"
        )
        .bind(person_id)
        .fetch_all(pool)
        .await
        })?;
        let present: Vec<(i64, i64)> = if contact_rows.is_empty() {
            vec![]
        } else {
            let list = contact_rows
                .iter()
                .map(|c| c.id.to_string())
                .collect::<Vec<_>>()
                .join(",");
            on_pool!(self, |pool| sqlx::query_as(&format!(
                "SELECT contact_id, person_id FROM contact_people WHERE contact_id IN ({list}) ORDER BY person_id"
            ))
            .fetch_all(pool)
            .await)?
        };
        others.extend(present.iter().map(|x| x.1));
        let contacts = contact_rows
            .into_iter()
            .map(|c| SourceContact {
                occurred_on: dates::iso(c.occurred_on),
                mode: ContactMode::parse(&c.mode)
                    .map(|m| m.label().to_string())
                    .unwrap_or(c.mode.clone()),
                visibility: c.visibility,
                organisation_id: c.organisation_id,
                organisation: c.organisation,
                author: who(Some(c.author_user_id)).unwrap_or_default(),
                present: present.iter().filter(|x| x.0 == c.id).map(|x| x.1).collect(),
                body: c.body,
            })
            .collect();

        // Assessments of their families.
        let assessment_rows: Vec<(i64, i64, i64, Date, String, String, String)> =
            on_pool!(self, |pool| sqlx::query_as(&format!(
                "SELECT id, family_id, author_user_id, assessed_on, strengths, changes, future FROM assessments
                 WHERE family_id IN ({fam_list}) ORDER BY assessed_on, id"
            ))
            .fetch_all(pool)
            .await)?;
        let mut assessments = vec![];
        for (id, family, author, on, strengths, changes, future) in assessment_rows {
            let scores: Vec<(String, i64, String)> = on_pool!(self, |pool| {
                sqlx::query_as(
                "SELECT area, CAST(score AS BIGINT), words FROM assessment_scores WHERE assessment_id = $1 ORDER BY area"
            )
            .bind(id)
            .fetch_all(pool)
            .await
            })?;
            let mut sections: Vec<(String, String)> = scores
                .into_iter()
                .map(|(area, score, words)| {
                    let text = if words.is_empty() {
                        format!("{score} out of 10")
                    } else {
                        format!("{score} out of 10: {words}")
                    };
                    (label(&area), text)
                })
                .collect();
            sections.push(("What is going well".into(), strengths));
            sections.push(("What needs to change".into(), changes));
            sections.push(("Hopes for the future".into(), future));
            assessments.push(SourceDocument {
                kind: "Family assessment".into(),
                family: fname(family),
                about: None,
                date: dates::iso(on),
                author: who(Some(author)),
                sections,
            });
        }

        // Early help assessments.
        #[derive(sqlx::FromRow)]
        struct EhRow {
            family_id: i64,
            author_user_id: i64,
            status: String,
            started_on: Date,
            reason: String,
            child_development: String,
            parenting_capacity: String,
            family_environment: String,
            child_views: String,
            family_views: String,
            strengths: String,
            needs: String,
            analysis: String,
            outcome: String,
        }
        let eh_rows: Vec<EhRow> = on_pool!(self, |pool| sqlx::query_as(&format!(
            "SELECT family_id, author_user_id, status, started_on, reason, child_development, parenting_capacity,
               family_environment, child_views, family_views, strengths, needs, analysis, outcome
             FROM early_help_assessments WHERE family_id IN ({fam_list}) ORDER BY started_on, id"
        ))
        .fetch_all(pool)
        .await)?;
        let early_help_assessments = eh_rows
            .into_iter()
            .map(|e| SourceDocument {
                kind: format!("Early help assessment ({})", e.status),
                family: fname(e.family_id),
                about: None,
                date: dates::iso(e.started_on),
                author: who(Some(e.author_user_id)),
                sections: [
                    ("Reason for the assessment", e.reason),
                    ("Child development", e.child_development),
                    ("Parenting capacity", e.parenting_capacity),
                    ("Family and environment", e.family_environment),
                    ("The child's views", e.child_views),
                    ("The family's views", e.family_views),
                    ("Strengths", e.strengths),
                    ("Needs", e.needs),
                    ("Analysis", e.analysis),
                    ("Outcome", e.outcome),
                ]
                .into_iter()
                .filter(|(_, t)| !t.is_empty())
                .map(|(l, t)| (l.to_string(), t))
                .collect(),
            })
            .collect();

        // Development records.
        let q_rows: Vec<(i64, i64, i64, String, i64, Date, i64, String)> = on_pool!(self, |pool| {
            sqlx::query_as(
            &format!(
                "SELECT id, family_id, person_id, instrument, CAST(interval_months AS BIGINT), completed_on, author_user_id,
                   notes FROM questionnaires WHERE family_id IN ({fam_list}) ORDER BY completed_on, id"
            )
        )
        .fetch_all(pool)
        .await
        })?;
        let mut development = vec![];
        for (id, family, about, instrument, interval, on, author, notes) in q_rows {
            let scores: Vec<(String, i64)> = on_pool!(self, |pool| {
                sqlx::query_as(
                "SELECT area, CAST(score AS BIGINT) FROM questionnaire_scores WHERE questionnaire_id = $1 ORDER BY area"
            )
            .bind(id)
            .fetch_all(pool)
            .await
            })?;
            others.insert(about);
            let mut sections: Vec<(String, String)> =
                scores.into_iter().map(|(a, s)| (label(&a), s.to_string())).collect();
            if !notes.is_empty() {
                sections.push(("Notes".into(), notes));
            }
            development.push(SourceDocument {
                kind: format!(
                    "{} at {interval} months",
                    instrument.to_uppercase().replace("ASQSE", "ASQ:SE")
                ),
                family: fname(family),
                about: Some(about),
                date: dates::iso(on),
                author: who(Some(author)),
                sections,
            });
        }
        #[derive(sqlx::FromRow)]
        struct ReviewRow {
            family_id: i64,
            person_id: i64,
            reviewed_on: Date,
            author_user_id: i64,
            health_notes: String,
            eyfs_notes: String,
            parent_views: String,
            next_steps: String,
        }
        let reviews: Vec<ReviewRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
            "SELECT family_id, person_id, reviewed_on, author_user_id, health_notes, eyfs_notes, parent_views, next_steps
             FROM two_year_reviews WHERE family_id IN ({fam_list}) ORDER BY reviewed_on, id"
        ))
        .fetch_all(pool)
        .await
        })?;
        for r in reviews {
            others.insert(r.person_id);
            development.push(SourceDocument {
                kind: "Integrated review at two".into(),
                family: fname(r.family_id),
                about: Some(r.person_id),
                date: dates::iso(r.reviewed_on),
                author: who(Some(r.author_user_id)),
                sections: [
                    ("Health", r.health_notes),
                    ("Early years", r.eyfs_notes),
                    ("Parents' views", r.parent_views),
                    ("Next steps", r.next_steps),
                ]
                .into_iter()
                .filter(|(_, t)| !t.is_empty())
                .map(|(l, t)| (l.to_string(), t))
                .collect(),
            });
        }

        // Plan goals and actions.
        let goals: Vec<(i64, i64, String, String)> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
            "SELECT id, family_id, words, status FROM plan_goals WHERE family_id IN ({fam_list}) ORDER BY family_id, id"
        ))
        .fetch_all(pool)
        .await
        })?;
        #[derive(sqlx::FromRow)]
        struct ActionRow {
            goal_id: i64,
            description: String,
            owner_user_id: Option<i64>,
            owner_organisation: Option<String>,
            owner_person_id: Option<i64>,
            due_on: Date,
            status: String,
        }
        let actions: Vec<ActionRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
            "SELECT a.goal_id, a.description, a.owner_user_id, o.name AS owner_organisation, a.owner_person_id, a.due_on,
               a.status FROM plan_actions a LEFT JOIN organisations o ON o.id = a.owner_organisation_id
             WHERE a.family_id IN ({fam_list}) ORDER BY a.goal_id, a.id"
        ))
        .fetch_all(pool)
        .await
        })?;
        let plan_goals = goals
            .into_iter()
            .map(|(id, family, words, status)| SourceGoal {
                family: fname(family),
                words,
                status: label(&status),
                actions: actions
                    .iter()
                    .filter(|a| a.goal_id == id)
                    .map(|a| SourceAction {
                        description: a.description.clone(),
                        owner: match (a.owner_user_id, &a.owner_organisation, a.owner_person_id) {
                            (Some(u), _, _) => who(Some(u)).map(Owner::Staff).unwrap_or(Owner::Nobody),
                            (_, Some(o), _) => Owner::Organisation(o.clone()),
                            (_, _, Some(p)) => Owner::Person(p),
                            _ => Owner::Nobody,
                        },
                        due_on: dates::iso(a.due_on),
                        status: label(&a.status),
                    })
                    .collect(),
            })
            .collect();
        others.extend(actions.iter().filter_map(|a| a.owner_person_id));

        // Flags about them.
        let flag_rows: Vec<(String, String, Date, Option<Date>, Option<i64>)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT kind, description, raised_on, ended_on, raised_by_user_id FROM flags WHERE person_id = $1
             ORDER BY raised_on, id"
        )
        .bind(person_id)
        .fetch_all(pool)
        .await)?;
        let flags = flag_rows
            .into_iter()
            .map(|(kind, description, raised, ended, by)| SourceFlag {
                kind: FlagKind::parse(&kind)
                    .map(|k| k.label().to_string())
                    .unwrap_or_else(|| label(&kind)),
                description,
                raised_on: dates::iso(raised),
                ended_on: opt(ended),
                raised_by: who(by),
            })
            .collect();

        // Episodes of their families.
        let episode_rows: Vec<(i64, String, String, Date, Option<Date>, Option<String>, Option<i64>)> =
            on_pool!(self, |pool| sqlx::query_as(&format!(
                "SELECT family_id, level, status, opened_on, closed_on, close_reason, lead_user_id FROM episodes
                 WHERE family_id IN ({fam_list}) ORDER BY opened_on, id"
            ))
            .fetch_all(pool)
            .await)?;
        let episodes = episode_rows
            .into_iter()
            .map(|(family, level, status, opened, closed, reason, lead)| SourceEpisode {
                family: fname(family),
                level,
                status: label(&status),
                opened_on: dates::iso(opened),
                closed_on: opt(closed),
                close_reason: reason.map(|r| label(&r)).unwrap_or_default(),
                lead: who(lead),
            })
            .collect();

        // Who viewed their records.
        let access_log = self
            .person_audit_rows(person_id, 2000)
            .await?
            .into_iter()
            .map(|r| SourceAccess {
                when: transparency::iso_utc(r.event.at_ms),
                who: who(r.event.actor_user_id),
                action: AuditAction::label(&r.event.action).into(),
                record: transparency::record_plain(&r.event.record_kind),
                why: transparency::why_plain(&r.event.detail),
                route: r.event.route,
            })
            .collect();

        // The third parties' identifying details.
        others.remove(&person_id);
        for id in others {
            let Ok(o) = self.person(id).await else { continue };
            let mut names = vec![o.full_name()];
            names.extend(o.preferred_name.clone());
            names.extend(
                self.previous_names(id)
                    .await?
                    .into_iter()
                    .map(|n| format!("{} {}", n.given_name, n.family_name)),
            );
            let address_parts = self
                .addresses(id)
                .await?
                .into_iter()
                .flat_map(|a| [Some(a.line1), a.line2, Some(a.postcode)].into_iter().flatten())
                .collect();
            third_parties.push(ThirdParty {
                key: id,
                names,
                dates_of_birth: o.date_of_birth.map(dates::iso).into_iter().collect(),
                nhs_numbers: o.nhs_number.map(|n| n.as_digits()).into_iter().collect(),
                address_parts,
            });
        }
        // A linked person described on a referral is shown by their record's key.
        third_parties.sort_by_key(|t| std::cmp::Reverse(t.key));

        Ok(Source {
            generated_at: String::new(),
            tenant: tenant.name,
            answering_organisation_id: 0,
            answering_organisation: String::new(),
            subject_id: person_id,
            identity,
            addresses,
            families,
            third_parties,
            relationships,
            consents,
            referrals,
            contacts,
            assessments,
            early_help_assessments,
            development,
            plan_goals,
            flags,
            episodes,
            access_log,
        })
    }
}

fn opt(d: Option<Date>) -> String {
    d.map(dates::iso).unwrap_or_default()
}

fn address_text(a: &crate::persons::Address) -> String {
    [
        Some(a.line1.clone()),
        a.line2.clone(),
        Some(a.town.clone()),
        Some(a.postcode.clone()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ")
}

/// A code as words: `not_started` → "Not started".
fn label(code: &str) -> String {
    let s = code.replace('_', " ");
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => s,
    }
}
