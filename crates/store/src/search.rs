//! What the access policy needs to know ([`FamilyFacts`]), and the queries that
//! list and search only within a subject's working relationships.
//!
//! `visible_condition` is the SQL mirror of `kindred_domain::access::family`
//! (for `View`): it keeps list and search queries fast. Callers still check
//! every row with the policy, and a test drives both over random worlds and
//! requires them to agree.

use std::collections::BTreeMap;

use kindred_domain::access::{FamilyFacts, Subject};
use kindred_domain::model::Role;
use kindred_domain::{NhsNumber, Postcode, names};
use sqlx::QueryBuilder;
use time::Date;

use crate::persons::{PERSON_COLUMNS, Person, PersonRow};
use crate::{Db, Result, on_pool, on_read};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FamilySummary {
    pub id: i64,
    pub name: String,
    pub members: i64,
    pub updated_at_ms: i64,
}

/// How many families a list holds, counted as far as [`COUNT_CAP`]: past
/// that a count would visit every family of the partnership for a number
/// nobody pages through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    Exactly(i64),
    MoreThan(i64),
}

/// The most families [`Db::visible_families`] counts exactly.
pub const COUNT_CAP: i64 = 1_000;

#[derive(Debug, Clone, Default)]
pub struct SearchCriteria {
    pub name: Option<String>,
    pub date_of_birth: Option<Date>,
    pub nhs_number: Option<NhsNumber>,
    pub postcode: Option<Postcode>,
}

impl SearchCriteria {
    pub fn is_empty(&self) -> bool {
        self.name.as_deref().is_none_or(|n| n.trim().is_empty())
            && self.date_of_birth.is_none()
            && self.nhs_number.is_none()
            && self.postcode.is_none()
    }

    /// Which fields were used, for the audit trail (never their values).
    pub fn fields(&self) -> String {
        let mut f = vec![];
        if self.name.is_some() {
            f.push("name");
        }
        if self.date_of_birth.is_some() {
            f.push("date_of_birth");
        }
        if self.nhs_number.is_some() {
            f.push("nhs_number");
        }
        if self.postcode.is_some() {
            f.push("postcode");
        }
        f.join(",")
    }
}

#[derive(Debug, Clone)]
pub struct PersonHit {
    pub person: Person,
    pub postcode: Option<String>,
    /// (family id, family name) for each family of the person the subject can see.
    pub families: Vec<(i64, String)>,
    /// How well the name matched, 0..=1 (1 when no name was searched).
    pub score: f64,
}

/// The SQL mirror of the access policy's `View` decision, over families
/// aliased `f`, given the families the subject holds an unexpired break-glass
/// override on now ([`Db::visible_condition`] reads them). Only integers from
/// the subject and those ids are written into the SQL, so for one user the
/// text stays the same from one request to the next and the prepared
/// statement is reused.
pub fn visible_condition_given(s: &Subject, break_glass: &[i64]) -> String {
    if !sees_cases(s) {
        return "1 = 0".into();
    }
    let (t, u, o) = (s.tenant_id, s.user_id, s.organisation_id);
    let named = [
        format!("f.lead_user_id = {u}"),
        // The user's own team families, read once per statement (a worker is
        // in the team of few families, against the partnership's thousands
        // that a search or list may visit): each family then costs a probe of
        // that small set instead of a descent into the whole index.
        format!("f.id IN (SELECT family_id FROM team_members WHERE user_id = {u} AND until_date IS NULL)"),
    ];
    // SQLite tries the alternatives in order and stops at the first that
    // holds: the organisation's involvement, the way most families are seen,
    // goes before the team (one probe of a covering index, migration 0028).
    let mut ors = vec![named[0].clone()];
    if s.has(Role::Practitioner) || s.has(Role::Manager) {
        ors.push(format!(
            "EXISTS (SELECT 1 FROM involvements i WHERE i.family_id = f.id AND i.organisation_id = {o} AND i.ended_on IS NULL)"
        ));
    }
    ors.push(named[1].clone());
    if s.has(Role::Triage) {
        ors.push("EXISTS (SELECT 1 FROM referrals r WHERE r.family_id = f.id AND r.status = 'open')".into());
    }
    if !break_glass.is_empty() {
        ors.push(format!("(NOT f.sealed AND f.id IN ({}))", crate::id_list(break_glass)));
    }
    format!(
        "((f.tenant_id = {t} AND ({})) OR (f.tenant_id <> {t} AND ({}) AND {o} IN ({})))",
        ors.join(" OR "),
        named.join(" OR "),
        partner_organisations_sql("f.tenant_id", &today_literal()),
    )
}

/// Whether the subject may see any family at all: active, with a case role.
fn sees_cases(s: &Subject) -> bool {
    s.active && (s.has(Role::Practitioner) || s.has(Role::Manager) || s.has(Role::Triage))
}

/// Today as an SQL literal both backends compare with their dates.
fn today_literal() -> String {
    format!("'{}'", crate::today())
}

/// The SQL mirror of `sharing::crosses_tenants`: the organisations of other
/// tenants that an active agreement, not resting on consent, for early help
/// and sharing identity, makes partners of `tenant` (an SQL expression).
pub(crate) fn partner_organisations_sql(tenant: &str, today: &str) -> String {
    partners_sql("p2.organisation_id", &format!("= {tenant}"), today)
}

/// [`partner_organisations_sql`] selecting `columns` (of `o1`, the tenant's
/// party, and `p2`, the partner's) for the tenants that meet `tenant_test`
/// (`= 1`, `IN (…)`).
fn partners_sql(columns: &str, tenant_test: &str, today: &str) -> String {
    format!(
        "SELECT {columns} FROM sharing_agreements a
         JOIN sharing_agreement_parties p1 ON p1.agreement_id = a.id
         JOIN organisations o1 ON o1.id = p1.organisation_id
         JOIN sharing_agreement_parties p2 ON p2.agreement_id = a.id
         JOIN organisations o2 ON o2.id = p2.organisation_id
         WHERE o1.tenant_id {tenant_test} AND o2.tenant_id <> o1.tenant_id
           AND a.starts_on <= {today} AND (a.ends_on IS NULL OR a.ends_on >= {today})
           AND a.lawful_basis <> 'consent'
           AND (',' || a.purposes || ',') LIKE '%,early_help_sharing,%'
           AND (',' || a.categories || ',') LIKE '%,identity,%'"
    )
}

impl Db {
    /// [`visible_condition_given`] with the subject's break-glass overrides
    /// as they stand now.
    pub async fn visible_condition(&self, s: &Subject) -> Result<String> {
        if !sees_cases(s) {
            return Ok("1 = 0".into());
        }
        let now = crate::now_ms();
        let glass: Vec<(i64,)> = on_read!(self, |p| sqlx::query_as(
            "SELECT family_id FROM access_overrides WHERE user_id = $1 AND kind = 'break_glass'
               AND expires_at_ms > $2 AND started_at_ms <= $2 ORDER BY family_id"
        )
        .bind(s.user_id)
        .bind(now)
        .fetch_all(p)
        .await)?;
        let glass: Vec<i64> = glass.into_iter().map(|g| g.0).collect();
        Ok(visible_condition_given(s, &glass))
    }

    /// The facts the access policy decides on, or `None` if there is no such family.
    /// Bound parameters, so the statements are prepared once and reused.
    pub async fn family_facts(&self, family_id: i64) -> Result<Option<FamilyFacts>> {
        // One round trip: (0, tenant, lead, sealed) for the family, (1, user)
        // per team member, (2, organisation) per open involvement, (3, count)
        // of open referrals, (4, user) per unexpired break-glass, (6,
        // organisation) per partner organisation of another tenant.
        let sql = format!(
            "SELECT CAST(0 AS BIGINT), tenant_id, lead_user_id, CAST(CASE WHEN sealed THEN 1 ELSE 0 END AS BIGINT)
               FROM families WHERE id = $1
             UNION ALL SELECT 1, user_id, NULL, NULL FROM team_members WHERE family_id = $1 AND until_date IS NULL
             UNION ALL SELECT 2, organisation_id, NULL, NULL FROM involvements WHERE family_id = $1 AND ended_on IS NULL
             UNION ALL SELECT 3, COUNT(*), NULL, NULL FROM referrals WHERE family_id = $1 AND status = 'open'
             UNION ALL SELECT 4, user_id, NULL, NULL FROM access_overrides WHERE family_id = $1 AND kind = 'break_glass'
                 AND started_at_ms <= $2 AND expires_at_ms > $2
             UNION ALL SELECT 6, organisation_id, NULL, NULL FROM ({}) partners",
            partner_organisations_sql("(SELECT tenant_id FROM families WHERE id = $1)", "$3")
        );
        let (now, today) = (crate::now_ms(), crate::today());
        let rows: Vec<OneFactRow> = on_read!(self, |p| sqlx::query_as(&sql)
            .bind(family_id)
            .bind(now)
            .bind(today)
            .fetch_all(p)
            .await)?;
        let Some(&(_, Some(tenant_id), lead_user_id, sealed)) = rows.iter().find(|r| r.0 == 0) else {
            return Ok(None);
        };
        let of = |kind: i64| rows.iter().filter(move |r| r.0 == kind).filter_map(|r| r.1);
        Ok(Some(FamilyFacts {
            family_id,
            tenant_id,
            lead_user_id,
            team_user_ids: of(1).collect(),
            involved_organisation_ids: of(2).collect(),
            open_referral: of(3).any(|n| n > 0),
            break_glass_user_ids: of(4).collect(),
            sealed: sealed.is_some_and(|n| n != 0),
            partner_organisation_ids: of(6).collect(),
        }))
    }

    /// [`Db::family_facts`] for many families, in one round trip.
    pub async fn family_facts_many(&self, family_ids: &[i64]) -> Result<BTreeMap<i64, FamilyFacts>> {
        let mut out = BTreeMap::new();
        if family_ids.is_empty() {
            return Ok(out);
        }
        let (ids, join) = (
            crate::bound_ids(self.backend(), "$1", "j"),
            crate::ids_join(self.backend()),
        );
        // (0, family, tenant, lead, sealed), (2, family, team member), (3,
        // family, involved organisation), (4, family) per open referral, (5,
        // family, user) per unexpired break-glass, (6, tenant, organisation)
        // per partner organisation of another tenant.
        let partners = partners_sql(
            "6, o1.tenant_id, p2.organisation_id, NULL, NULL",
            &format!("IN (SELECT f.tenant_id FROM {ids} {join} families f ON f.id = j.value)"),
            "$3",
        );
        let sql = format!(
            "SELECT CAST(0 AS BIGINT), f.id, f.tenant_id, f.lead_user_id, CAST(CASE WHEN f.sealed THEN 1 ELSE 0 END AS BIGINT)
               FROM {ids} {join} families f ON f.id = j.value
             UNION ALL SELECT 2, t.family_id, t.user_id, NULL, NULL FROM {ids} {join} team_members t ON t.family_id = j.value
                 AND t.until_date IS NULL
             UNION ALL SELECT 3, i.family_id, i.organisation_id, NULL, NULL FROM {ids} {join} involvements i ON i.family_id = j.value
                 AND i.ended_on IS NULL
             UNION ALL SELECT 4, r.family_id, NULL, NULL, NULL FROM {ids} {join} referrals r ON r.family_id = j.value
                 AND r.status = 'open'
             UNION ALL SELECT 5, o.family_id, o.user_id, NULL, NULL FROM {ids} {join} access_overrides o ON o.family_id = j.value
                 AND o.kind = 'break_glass' AND o.started_at_ms <= $2 AND o.expires_at_ms > $2
             UNION ALL {partners}"
        );
        let (csv, now, today) = (crate::id_set(family_ids), crate::now_ms(), crate::today());
        let rows: Vec<FactRow> = on_read!(self, |p| sqlx::query_as(&sql)
            .bind(&csv)
            .bind(now)
            .bind(today)
            .fetch_all(p)
            .await)?;
        for &(kind, id, a, b, sealed) in &rows {
            if kind == 0 {
                out.insert(
                    id,
                    FamilyFacts {
                        family_id: id,
                        tenant_id: a.unwrap_or_default(),
                        lead_user_id: b,
                        sealed: sealed.is_some_and(|s| s != 0),
                        ..Default::default()
                    },
                );
            }
        }
        let mut partners: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for (kind, id, a, _, _) in rows {
            if kind == 6 {
                // `id` is a tenant here, not a family.
                partners.entry(id).or_default().extend(a);
                continue;
            }
            let Some(x) = out.get_mut(&id) else { continue };
            match (kind, a) {
                (2, Some(user)) => x.team_user_ids.push(user),
                (3, Some(org)) => x.involved_organisation_ids.push(org),
                (4, _) => x.open_referral = true,
                (5, Some(user)) => x.break_glass_user_ids.push(user),
                _ => {}
            }
        }
        for f in out.values_mut() {
            if let Some(orgs) = partners.get(&f.tenant_id) {
                f.partner_organisation_ids = orgs.clone();
            }
        }
        Ok(out)
    }

    /// The families the subject works with, most recently changed first,
    /// and how many there are (exactly up to [`COUNT_CAP`]).
    ///
    /// Two arms, each exactly the visible families of its side: the
    /// subject's own tenant, read newest first down the tenant's index so
    /// that a page stops once it has its rows; and other tenants, where the
    /// policy shows only families the subject leads or is in the team of,
    /// so those few are read by the subject's own rows.
    pub async fn visible_families(&self, s: &Subject, limit: i64, offset: i64) -> Result<(Vec<FamilySummary>, Total)> {
        let cond = self.visible_condition(s).await?;
        let (t, u) = (s.tenant_id, s.user_id);
        let own = format!("f.tenant_id = {t} AND {cond}");
        let others = format!(
            "f.tenant_id <> {t} AND f.id IN (SELECT family_id FROM team_members WHERE user_id = {u} AND until_date IS NULL
               UNION SELECT id FROM families WHERE lead_user_id = {u}) AND {cond}"
        );
        let columns = "SELECT f.id, f.name, f.updated_at_ms,
             (SELECT COUNT(*) FROM family_members m WHERE m.family_id = f.id AND m.left_on IS NULL) AS members
             FROM families f WHERE";
        let rows = on_pool!(self, |p| {
            sqlx::query_as::<_, FamilySummary>(&format!(
                "{columns} {own} UNION ALL {columns} {others} ORDER BY 3 DESC, 1 DESC LIMIT $1 OFFSET $2"
            ))
            .bind(limit)
            .bind(offset)
            .fetch_all(p)
            .await
        })?;
        let (n,): (i64,) = on_pool!(self, |p| sqlx::query_as(&format!(
            "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM families f WHERE {own} LIMIT {}) o)
                  + (SELECT COUNT(*) FROM families f WHERE {others})",
            COUNT_CAP + 1
        ))
        .fetch_one(p)
        .await)?;
        let total = if n > COUNT_CAP {
            Total::MoreThan(COUNT_CAP)
        } else {
            Total::Exactly(n)
        };
        Ok((rows, total))
    }

    /// People matching every given criterion, in families the subject can see,
    /// best name match first. Names match on spelling or sound, so typos are found.
    pub async fn search_persons(&self, s: &Subject, c: &SearchCriteria, limit: usize) -> Result<Vec<PersonHit>> {
        if c.is_empty() {
            return Ok(vec![]);
        }
        let tokens: Vec<String> = c
            .name
            .as_deref()
            .map(|n| {
                names::normalise(n)
                    .split(' ')
                    .filter(|t| !t.is_empty())
                    .take(3)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        // Exact spellings first; sound-alikes only while there is room. Each
        // query stops at its limit, so a wide slice of families stays fast.
        // Exact matches all score alike, so one page's worth is enough.
        let cond = self.visible_condition(s).await?;
        let hit = |person: Person| PersonHit {
            score: name_score(&tokens, &person),
            person,
            postcode: None,
            families: vec![],
        };
        let mut hits: Vec<PersonHit> = self
            .search_people(s, &cond, c, &tokens, NameMatch::Exact, limit as i64)
            .await?
            .into_iter()
            .map(hit)
            .collect();
        if !tokens.is_empty() && hits.len() < limit {
            // The first word as a family name, then as a given name, each
            // capped apart: in one query, whichever index SQLite walks first
            // fills the cap, so a typo of a surname ("Kahn") found only
            // given names that share its sound ("Kwame") and showed nothing.
            let mut seen: std::collections::BTreeSet<i64> = hits.iter().map(|h| h.person.id).collect();
            for side in [NameMatch::FamilySoundsLike, NameMatch::GivenSoundsLike] {
                // A surname's typo ("Smiht") that has already filled the page
                // with close matches needs no pass over given names that
                // merely share its sound (Sandy, Sanjay): they score below
                // what is shown, and each costs a visibility check.
                let close = hits.iter().filter(|h| h.score >= CLOSE).count();
                if side == NameMatch::GivenSoundsLike && close >= limit {
                    break;
                }
                let sounds = self.search_people(s, &cond, c, &tokens, side, CANDIDATES / 2).await?;
                hits.extend(sounds.into_iter().filter(|p| seen.insert(p.id)).map(hit));
            }
        }
        hits.retain(|h| h.score >= SHOWN_FROM);
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.person.family_name.cmp(&b.person.family_name))
                .then_with(|| a.person.given_name.cmp(&b.person.given_name))
        });
        hits.truncate(limit);
        self.fill_families_and_postcodes(&cond, &mut hits).await?;
        Ok(hits)
    }

    /// People matching the criteria who are in at least one family the
    /// subject can see (`cond`), at most `limit` of them: each candidate
    /// costs one visibility probe per family until one holds.
    async fn search_people(
        &self,
        s: &Subject,
        cond: &str,
        c: &SearchCriteria,
        tokens: &[String],
        how: NameMatch,
        limit: i64,
    ) -> Result<Vec<Person>> {
        let rows: Vec<PersonRow> = on_read!(self, |p, DB| {
            let mut q = QueryBuilder::<DB>::new(format!("SELECT {PERSON_COLUMNS} FROM persons p WHERE p.tenant_id = "));
            q.push_bind(s.tenant_id);
            for (i, t) in tokens.iter().enumerate() {
                let phon = names::phonetic(t);
                match (how, i) {
                    (NameMatch::Exact, _) => {
                        q.push(" AND (p.given_norm = ").push_bind(t.clone());
                        q.push(" OR p.family_norm = ").push_bind(t.clone());
                    }
                    (NameMatch::FamilySoundsLike, 0) => {
                        q.push(" AND (p.family_norm = ").push_bind(t.clone());
                        q.push(" OR p.family_phon = ").push_bind(phon);
                    }
                    (NameMatch::GivenSoundsLike, 0) => {
                        q.push(" AND (p.given_norm = ").push_bind(t.clone());
                        q.push(" OR p.given_phon = ").push_bind(phon);
                    }
                    _ => {
                        q.push(" AND (p.given_norm = ").push_bind(t.clone());
                        q.push(" OR p.family_norm = ").push_bind(t.clone());
                        q.push(" OR p.given_phon = ").push_bind(phon.clone());
                        q.push(" OR p.family_phon = ").push_bind(phon);
                    }
                }
                q.push(")");
            }
            if let Some(d) = c.date_of_birth {
                q.push(" AND p.date_of_birth = ").push_bind(d);
            }
            if let Some(n) = c.nhs_number {
                q.push(" AND p.nhs_number = ").push_bind(n.as_digits());
            }
            if let Some(pc) = &c.postcode {
                q.push(" AND EXISTS (SELECT 1 FROM addresses a WHERE a.person_id = p.id AND a.postcode = ")
                    .push_bind(pc.as_str().to_string())
                    .push(")");
                // A restricted person is never found by where they live, except
                // by a worker allowed to see their address (`access::contact_details`).
                q.push(" AND (p.restricted = FALSE OR EXISTS (SELECT 1 FROM restricted_person_permissions rp WHERE rp.person_id = p.id AND rp.user_id = ")
                    .push_bind(s.user_id)
                    .push("))");
                // Nor is anyone living with them (`Db::restriction_facts`).
                q.push(format!(
                    " AND NOT EXISTS (SELECT 1 FROM addresses a1 {}
                     WHERE a1.person_id = p.id AND a1.to_date IS NULL
                       AND NOT EXISTS (SELECT 1 FROM restricted_person_permissions rp2 WHERE rp2.person_id = r.id AND rp2.user_id = ",
                    crate::restricted::restricted_housemates("a1")
                ))
                .push_bind(s.user_id)
                .push("))");
            }
            q.push(format!(
                " AND EXISTS (SELECT 1 FROM family_members m JOIN families f ON f.id = m.family_id
                   WHERE m.person_id = p.id AND {cond}) LIMIT "
            ))
            .push_bind(limit);
            q.build_query_as::<PersonRow>().fetch_all(p).await
        })?;
        Ok(rows.into_iter().map(Person::from).collect())
    }

    /// Each hit's families that the subject can see (`cond`) and current
    /// postcode, in one statement.
    async fn fill_families_and_postcodes(&self, cond: &str, hits: &mut [PersonHit]) -> Result<()> {
        if hits.is_empty() {
            return Ok(());
        }
        let (ids, join) = (
            crate::bound_ids(self.backend(), "$1", "j"),
            crate::ids_join(self.backend()),
        );
        let csv = crate::id_set(&hits.iter().map(|h| h.person.id).collect::<Vec<_>>());
        // (person, family, family name) per family; (person, NULL, postcode) per current address.
        let rows: Vec<(i64, Option<i64>, String)> = on_read!(self, |p| {
            sqlx::query_as(&format!(
                "SELECT m.person_id, f.id, f.name FROM {ids} {join} family_members m ON m.person_id = j.value
                   JOIN families f ON f.id = m.family_id
                  WHERE {cond}
                 UNION ALL SELECT a.person_id, NULL, a.postcode FROM {ids} {join} addresses a ON a.person_id = j.value
                  WHERE a.to_date IS NULL"
            ))
            .bind(&csv)
            .fetch_all(p)
            .await
        })?;
        let at: std::collections::HashMap<i64, usize> =
            hits.iter().enumerate().map(|(i, h)| (h.person.id, i)).collect();
        for (person_id, family_id, text) in rows {
            let Some(h) = at.get(&person_id).map(|&i| &mut hits[i]) else {
                continue;
            };
            match family_id {
                Some(id) => h.families.push((id, text)),
                None => h.postcode = Some(text),
            }
        }
        for h in hits.iter_mut() {
            h.families.sort_unstable();
            h.families.dedup();
        }
        Ok(())
    }
}

/// A row of [`Db::family_facts`]'s statement: (kind, then up to three
/// values as the kind says).
type OneFactRow = (i64, Option<i64>, Option<i64>, Option<i64>);

/// A row of [`Db::family_facts_many`]'s statement: (kind, family or
/// tenant, then up to three values as the kind says).
type FactRow = (i64, i64, Option<i64>, Option<i64>, Option<i64>);

/// How many people the sound-alike queries may return between them (half
/// by family name, half by given name): three pages, ranked by how close
/// their names are. A sound-alike search for a common name has
/// thousands of candidates in a big partnership; which of the many equally
/// good ones come first is the index's order, whatever the cap, and each
/// candidate costs a visibility check. The page says when there are more, so
/// the user narrows the search.
const CANDIDATES: i64 = 150;

/// A name match this close (Jaro-Winkler) is a near spelling of the name:
/// "Smiht" of Smith scores 0.95, "Kahn" of Khan 0.93, while names that only
/// share a sound score lower ("Smiht" of Sandy 0.52, "Kahn" of Kwame 0.67).
/// Hits are shown from [`SHOWN_FROM`].
const CLOSE: f64 = 0.9;

/// The least name score a hit is shown with.
const SHOWN_FROM: f64 = 0.7;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameMatch {
    /// Every searched word is exactly a given or family name.
    Exact,
    /// The first word is spelt or sounds like the family name, every other
    /// like a given or family name.
    FamilySoundsLike,
    /// The first word is spelt or sounds like the given name, every other
    /// like a given or family name.
    GivenSoundsLike,
}

/// The mean over searched words of the best similarity to any of the person's names.
fn name_score(tokens: &[String], p: &Person) -> f64 {
    if tokens.is_empty() {
        return 1.0;
    }
    let mut candidates = vec![p.given_name.as_str(), p.family_name.as_str()];
    if let Some(pref) = &p.preferred_name {
        candidates.push(pref);
    }
    let total: f64 = tokens
        .iter()
        .map(|t| candidates.iter().map(|c| names::similarity(t, c)).fold(0.0, f64::max))
        .sum();
    total / tokens.len() as f64
}
