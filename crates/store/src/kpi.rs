//! The facts behind the KPI dashboards (issue 7, item 3): one query per
//! indicator, scoped to a tenant and a period, each row placed by the hub it
//! was recorded against and its family's current postcode. Aggregate only:
//! nothing here leaves the store with a name or an identifier on it; the web
//! tabulates with `domain::kpi` and shows through `domain::suppression`.

use std::collections::HashMap;

use kindred_domain::development::{Cutoff, Instrument, Zone, classify};
use kindred_domain::kpi::{Areas, Child, Fact, Kpi, NamedArea, Place, asq_facts, pathway_facts};
use kindred_domain::maturity::{Dimension, Level, Rating};
use time::{Date, OffsetDateTime};

use crate::BeginWrite;
use crate::{Db, Result, on_pool};

fn ms(d: Date) -> i64 {
    d.midnight().assume_utc().unix_timestamp() * 1000
}

fn date_of(ms: i64) -> Date {
    OffsetDateTime::from_unix_timestamp(ms / 1000)
        .map(|t| t.date())
        .unwrap_or(Date::MIN)
}

/// A birth: (hub, family, born on, consent, welcome contacts done, payload).
type BirthRow = (Option<i64>, Option<i64>, Date, bool, i64, String);
/// A referral due: (hub, family, due at, decided at).
type DueRow = (Option<i64>, Option<i64>, i64, Option<i64>);

/// A self-assessment of the partnership, with its ratings.
#[derive(Debug, Clone)]
pub struct MaturityAssessment {
    pub id: i64,
    pub assessed_on: Date,
    pub assessed_by: String,
    pub summary: String,
    pub ratings: Vec<Rating>,
}

impl Db {
    /// The tenant's hubs (with their reach areas) and wards.
    pub async fn kpi_areas(&self, tenant_id: i64) -> Result<Areas> {
        let hubs = self
            .hub_reach(tenant_id)
            .await?
            .into_iter()
            .map(|h| NamedArea {
                id: h.hub_site_id,
                name: h.name,
                areas: h.areas,
            })
            .collect();
        Ok(Areas {
            hubs,
            wards: self.wards(tenant_id).await?,
        })
    }

    /// The tenant's wards and the districts and sectors each is made of.
    pub async fn wards(&self, tenant_id: i64) -> Result<Vec<NamedArea>> {
        let rows: Vec<(i64, String, Option<String>)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT w.id, w.name, a.area FROM wards w LEFT JOIN ward_areas a ON a.ward_id = w.id
             WHERE w.tenant_id = $1 ORDER BY w.name, w.id, a.area"
        )
        .bind(tenant_id)
        .fetch_all(p)
        .await)?;
        let mut out: Vec<NamedArea> = Vec::new();
        for (id, name, area) in rows {
            if out.last().map(|w| w.id) != Some(id) {
                out.push(NamedArea {
                    id,
                    name,
                    areas: Vec::new(),
                });
            }
            if let (Some(a), Some(w)) = (area, out.last_mut()) {
                w.areas.push(a);
            }
        }
        Ok(out)
    }

    /// Adds a ward, or replaces the areas of the tenant's ward of that name.
    pub async fn set_ward(&self, tenant_id: i64, name: &str, areas: &[String]) -> Result<i64> {
        let (id,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "INSERT INTO wards (tenant_id, name) VALUES ($1, $2)
             ON CONFLICT (tenant_id, name) DO UPDATE SET name = excluded.name RETURNING id"
        )
        .bind(tenant_id)
        .bind(name)
        .fetch_one(p)
        .await)?;
        on_pool!(self, |p| sqlx::query("DELETE FROM ward_areas WHERE ward_id = $1")
            .bind(id)
            .execute(p)
            .await
            .map(|_| ()))?;
        for a in areas {
            on_pool!(self, |p| sqlx::query(
                "INSERT INTO ward_areas (ward_id, area) VALUES ($1, $2) ON CONFLICT DO NOTHING"
            )
            .bind(id)
            .bind(a)
            .execute(p)
            .await
            .map(|_| ()))?;
        }
        Ok(id)
    }

    /// Replaces all of a tenant's wards, in one transaction.
    pub async fn replace_wards(&self, tenant_id: i64, wards: &[(String, Vec<String>)]) -> Result<()> {
        on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("DELETE FROM ward_areas WHERE ward_id IN (SELECT id FROM wards WHERE tenant_id = $1)")
                .bind(tenant_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM wards WHERE tenant_id = $1")
                .bind(tenant_id)
                .execute(&mut *tx)
                .await?;
            for (name, areas) in wards {
                let (id,): (i64,) = sqlx::query_as("INSERT INTO wards (tenant_id, name) VALUES ($1, $2) RETURNING id")
                    .bind(tenant_id)
                    .bind(name)
                    .fetch_one(&mut *tx)
                    .await?;
                for a in areas {
                    sqlx::query("INSERT INTO ward_areas (ward_id, area) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                        .bind(id)
                        .bind(a)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await
        })?;
        Ok(())
    }

    /// Each family's current postcode: the newest current address of a current member.
    async fn family_postcodes(&self, tenant_id: i64) -> Result<HashMap<i64, String>> {
        let rows: Vec<(i64, String)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT m.family_id, a.postcode FROM family_members m
             JOIN families f ON f.id = m.family_id
             JOIN addresses a ON a.person_id = m.person_id AND a.to_date IS NULL
             WHERE f.tenant_id = $1 AND m.left_on IS NULL
             ORDER BY m.family_id, a.from_date DESC, a.id DESC"
        )
        .bind(tenant_id)
        .fetch_all(p)
        .await)?;
        let mut out = HashMap::new();
        for (family, postcode) in rows {
            out.entry(family).or_insert(postcode);
        }
        Ok(out)
    }

    /// Every fact of every indicator for a tenant between `from` and `to`
    /// (inclusive), as things stood on `today`.
    pub async fn kpi_facts(&self, tenant_id: i64, from: Date, to: Date, today: Date) -> Result<Vec<Fact>> {
        let postcodes = self.family_postcodes(tenant_id).await?;
        let place = |hub: Option<i64>, family: Option<i64>| {
            Place::of_postcode(hub, family.and_then(|f| postcodes.get(&f)).map(String::as_str))
        };
        let end = to.min(today);
        let (from_ms, to_ms) = (ms(from), ms(end.next_day().unwrap_or(end)));
        let mut facts = Vec::new();

        // Reach: births, and families registered (their welcome contact done).
        let births: Vec<BirthRow> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT s.hub_site_id, s.family_id, s.event_on, s.consent,
                    (SELECT COUNT(*) FROM tasks t WHERE t.family_id = s.family_id AND t.kind = 'welcome_contact' AND t.status = 'done'),
                    s.payload
             FROM source_records s
             WHERE s.tenant_id = $1 AND s.kind = 'live_births' AND s.event_on >= $2 AND s.event_on <= $3"
        )
        .bind(tenant_id)
        .bind(from)
        .bind(end)
        .fetch_all(p)
        .await
        })?;
        for (hub, family, on, consent, done, payload) in births {
            let mut at = place(hub, family);
            if at.district.is_none() {
                // Counted only (no consent to share): the record keeps its district and sector.
                let v: serde_json::Value = serde_json::from_str(&payload).unwrap_or_default();
                at.district = v.get("district").and_then(|d| d.as_str()).map(str::to_string);
                at.sector = v.get("sector").and_then(|d| d.as_str()).map(str::to_string);
            }
            facts.push(Fact {
                kpi: Kpi::Reach,
                series: Kpi::Reach.code().into(),
                on,
                place: at,
                counts: consent && done > 0,
            });
        }

        // Triage within target: referrals whose triage fell due in the period.
        let due: Vec<DueRow> = on_pool!(self, |p| sqlx::query_as(
            "SELECT hub_site_id, family_id, due_at_ms, decided_at_ms FROM referrals
             WHERE tenant_id = $1 AND status <> 'draft' AND due_at_ms >= $2 AND due_at_ms < $3"
        )
        .bind(tenant_id)
        .bind(from_ms)
        .bind(to_ms.min(OffsetDateTime::now_utc().unix_timestamp() * 1000))
        .fetch_all(p)
        .await)?;
        for (hub, family, due_ms, decided) in due {
            facts.push(Fact {
                kpi: Kpi::Triage,
                series: Kpi::Triage.code().into(),
                on: date_of(due_ms),
                place: place(hub, family),
                counts: decided.is_some_and(|d| d <= due_ms),
            });
        }

        // Re-referrals: a referral about a family referred in the 12 months before.
        let received: Vec<(Option<i64>, Option<i64>, i64, i64)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT r.hub_site_id, r.family_id, r.received_at_ms,
                    (SELECT COUNT(*) FROM referrals r2 WHERE r2.family_id = r.family_id AND r2.id <> r.id
                       AND r2.status <> 'draft' AND r2.received_at_ms < r.received_at_ms
                       AND r2.received_at_ms >= r.received_at_ms - $4)
             FROM referrals r
             WHERE r.tenant_id = $1 AND r.status <> 'draft' AND r.received_at_ms >= $2 AND r.received_at_ms < $3"
        )
        .bind(tenant_id)
        .bind(from_ms)
        .bind(to_ms)
        .bind(365_i64 * 86_400_000)
        .fetch_all(p)
        .await)?;
        for (hub, family, at, earlier) in received {
            facts.push(Fact {
                kpi: Kpi::ReReferrals,
                series: Kpi::ReReferrals.code().into(),
                on: date_of(at),
                place: place(hub, family),
                counts: earlier > 0,
            });
        }

        // Episodes closed, and with needs met.
        let closed: Vec<(i64, Date, Option<String>)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT family_id, closed_on, outcome FROM episodes
             WHERE tenant_id = $1 AND status = 'closed' AND closed_on >= $2 AND closed_on <= $3"
        )
        .bind(tenant_id)
        .bind(from)
        .bind(end)
        .fetch_all(p)
        .await)?;
        for (family, on, outcome) in closed {
            facts.push(Fact {
                kpi: Kpi::Outcomes,
                series: Kpi::Outcomes.code().into(),
                on,
                place: place(None, Some(family)),
                counts: outcome.as_deref() == Some("needs_met"),
            });
        }

        // Step-ups and step-downs.
        let steps: Vec<(i64, String, i64)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT e.family_id, ev.kind, ev.at_ms FROM episode_events ev JOIN episodes e ON e.id = ev.episode_id
             WHERE e.tenant_id = $1 AND ev.kind IN ('stepped_up', 'stepped_down') AND ev.at_ms >= $2 AND ev.at_ms < $3"
        )
        .bind(tenant_id)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(p)
        .await)?;
        for (family, kind, at) in steps {
            facts.push(Fact {
                kpi: Kpi::Steps,
                series: kind,
                on: date_of(at),
                place: place(None, Some(family)),
                counts: true,
            });
        }

        // Contacts by mode.
        let contacts: Vec<(i64, String, Date)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT family_id, mode, occurred_on FROM contacts
             WHERE tenant_id = $1 AND occurred_on >= $2 AND occurred_on <= $3"
        )
        .bind(tenant_id)
        .bind(from)
        .bind(end)
        .fetch_all(p)
        .await)?;
        for (family, mode, on) in contacts {
            facts.push(Fact {
                kpi: Kpi::ContactModes,
                series: mode,
                on,
                place: place(None, Some(family)),
                counts: true,
            });
        }

        // The pathway, ASQ-3 at 2½ and breastfeeding: children born in time to count.
        let born_since = kindred_domain::pathway::add_months(from, -31);
        let model = self.pathway_model(tenant_id).await?;
        let children: Vec<(i64, Date, Option<i64>)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT p.id, p.date_of_birth,
                    (SELECT m.family_id FROM family_members m WHERE m.person_id = p.id AND m.left_on IS NULL
                     ORDER BY m.joined_on DESC, m.id DESC LIMIT 1)
             FROM persons p WHERE p.tenant_id = $1 AND p.date_of_birth >= $2"
        )
        .bind(tenant_id)
        .bind(born_since)
        .fetch_all(p)
        .await)?;
        let completions: Vec<(i64, String, Date, Option<String>)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT c.person_id, c.stage, c.completed_on, c.breastfeeding FROM pathway_completions c
             JOIN persons p ON p.id = c.person_id WHERE p.tenant_id = $1 AND p.date_of_birth >= $2"
        )
        .bind(tenant_id)
        .bind(born_since)
        .fetch_all(p)
        .await)?;
        let scores: Vec<(i64, i64, Date, i32, String, i32)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT q.id, q.person_id, q.completed_on, q.interval_months, s.area, s.score
             FROM questionnaires q JOIN questionnaire_scores s ON s.questionnaire_id = q.id
             WHERE q.tenant_id = $1 AND q.instrument = 'asq3' ORDER BY q.id"
        )
        .bind(tenant_id)
        .fetch_all(p)
        .await)?;
        let cutoffs: HashMap<(i32, String), Cutoff> = self
            .asq_cutoffs(tenant_id)
            .await?
            .into_iter()
            .filter(|c| c.instrument == Instrument::Asq3.code())
            .map(|c| {
                (
                    (c.interval_months, c.area),
                    Cutoff {
                        cutoff: c.cutoff_centi.max(0) as u32,
                        monitoring: c.monitoring_centi.max(0) as u32,
                    },
                )
            })
            .collect();
        let mut asq: HashMap<i64, Vec<(Date, u8, bool)>> = HashMap::new();
        let mut last_q = None;
        for (q, person, on, interval, area, score) in scores {
            let below = classify(
                Instrument::Asq3,
                score.clamp(0, u16::MAX as i32) as u16,
                cutoffs.get(&(interval, area)).copied(),
            ) == Some(Zone::Below);
            let list = asq.entry(person).or_default();
            if last_q != Some(q) {
                list.push((on, interval.clamp(0, 255) as u8, below));
                last_q = Some(q);
            } else if let Some(l) = list.last_mut() {
                l.2 |= below;
            }
        }
        let mut done: HashMap<i64, Vec<(String, Date)>> = HashMap::new();
        let mut fed: HashMap<i64, (Date, String)> = HashMap::new();
        for (person, stage, on, feeding) in completions {
            if let Some(f) = feeding {
                fed.insert(person, (on, f));
            }
            done.entry(person).or_default().push((stage, on));
        }
        for (person, born, family) in children {
            let child = Child {
                born,
                place: place(None, family),
                completed: done.remove(&person).unwrap_or_default(),
                asq3: asq.remove(&person).unwrap_or_default(),
            };
            let in_period = |f: &Fact| f.on >= from && f.on <= end;
            facts.extend(pathway_facts(model, &child, today).into_iter().filter(in_period));
            facts.extend(asq_facts(&child, today).into_iter().filter(in_period));
            if let Some((on, feeding)) = fed.remove(&person)
                && on >= from
                && on <= end
            {
                facts.push(Fact {
                    kpi: Kpi::Breastfeeding,
                    series: Kpi::Breastfeeding.code().into(),
                    on,
                    place: child.place.clone(),
                    counts: feeding == "total" || feeding == "partial",
                });
            }
        }
        Ok(facts)
    }

    /// Records a self-assessment of the partnership's maturity.
    pub async fn add_maturity_assessment(
        &self,
        tenant_id: i64,
        user_id: i64,
        on: Date,
        summary: &str,
        ratings: &[Rating],
    ) -> Result<i64> {
        let now = crate::now_ms();
        on_pool!(self, |p| {
            let mut tx = p.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO maturity_assessments (tenant_id, assessed_on, assessed_by_user_id, summary, created_at_ms)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(tenant_id)
            .bind(on)
            .bind(user_id)
            .bind(summary)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            for r in ratings {
                sqlx::query(
                    "INSERT INTO maturity_ratings (assessment_id, dimension, level, comment) VALUES ($1, $2, $3, $4)",
                )
                .bind(id)
                .bind(r.dimension.code())
                .bind(r.level.code())
                .bind(&r.comment)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<i64, sqlx::Error>(id)
        })
        .map_err(Into::into)
    }

    /// The tenant's self-assessments, newest first.
    pub async fn maturity_assessments(&self, tenant_id: i64) -> Result<Vec<MaturityAssessment>> {
        let heads: Vec<(i64, Date, String, String)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT a.id, a.assessed_on, u.display_name, a.summary FROM maturity_assessments a
             JOIN users u ON u.id = a.assessed_by_user_id
             WHERE a.tenant_id = $1 ORDER BY a.assessed_on DESC, a.id DESC"
        )
        .bind(tenant_id)
        .fetch_all(p)
        .await)?;
        let rows: Vec<(i64, String, String, String)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT r.assessment_id, r.dimension, r.level, r.comment FROM maturity_ratings r
             JOIN maturity_assessments a ON a.id = r.assessment_id WHERE a.tenant_id = $1"
        )
        .bind(tenant_id)
        .fetch_all(p)
        .await)?;
        let mut by: HashMap<i64, Vec<Rating>> = HashMap::new();
        for (id, d, l, comment) in rows {
            if let (Some(dimension), Some(level)) = (Dimension::parse(&d), Level::parse(&l)) {
                by.entry(id).or_default().push(Rating {
                    dimension,
                    level,
                    comment,
                });
            }
        }
        Ok(heads
            .into_iter()
            .map(|(id, assessed_on, assessed_by, summary)| {
                let mut ratings = by.remove(&id).unwrap_or_default();
                ratings.sort_by_key(|r| Dimension::ALL.iter().position(|d| *d == r.dimension));
                MaturityAssessment {
                    id,
                    assessed_on,
                    assessed_by,
                    summary,
                    ratings,
                }
            })
            .collect())
    }

    /// Figures that evidence each dimension of the maturity matrix, from the
    /// tenant's own records: (dimension, what, figure).
    pub async fn maturity_evidence(&self, tenant_id: i64, today: Date) -> Result<Vec<(Dimension, String, String)>> {
        let year_ago = kindred_domain::pathway::add_months(today, -12);
        let count = |sql: &'static str, d: Option<Date>| async move {
            let (n,): (i64,) = on_pool!(self, |p| {
                let q = sqlx::query_as(sql).bind(tenant_id);
                match d {
                    Some(d) => q.bind(d).fetch_one(p).await,
                    None => q.fetch_one(p).await,
                }
            })?;
            Ok::<i64, crate::StoreError>(n)
        };
        let orgs = count("SELECT COUNT(*) FROM organisations WHERE tenant_id = $1", None).await?;
        let org_kinds = count(
            "SELECT COUNT(DISTINCT o.kind) FROM organisations o WHERE o.tenant_id = $1
               AND EXISTS (SELECT 1 FROM users u WHERE u.organisation_id = o.id AND u.active)",
            None,
        )
        .await?;
        let agreements = count(
            "SELECT COUNT(*) FROM sharing_agreements WHERE tenant_id = $1 AND (ends_on IS NULL OR ends_on >= $2)",
            Some(today),
        )
        .await?;
        let imports = count(
            "SELECT COUNT(*) FROM import_runs WHERE tenant_id = $1 AND status = 'done'",
            None,
        )
        .await?;
        let multi = count(
            "SELECT COUNT(*) FROM episodes e WHERE e.tenant_id = $1 AND e.status = 'open'
               AND (SELECT COUNT(DISTINCT u.organisation_id) FROM team_members tm JOIN users u ON u.id = tm.user_id
                    WHERE tm.family_id = e.family_id AND tm.until_date IS NULL) >= 2",
            None,
        )
        .await?;
        let open = count(
            "SELECT COUNT(*) FROM episodes WHERE tenant_id = $1 AND status = 'open'",
            None,
        )
        .await?;
        let assessments = count(
            "SELECT COUNT(*) FROM assessments WHERE tenant_id = $1 AND assessed_on >= $2",
            Some(year_ago),
        )
        .await?;
        let referrers = count(
            "SELECT COUNT(DISTINCT referrer_organisation_id) FROM referrals WHERE tenant_id = $1 AND status <> 'draft'",
            None,
        )
        .await?;
        let closed = count(
            "SELECT COUNT(*) FROM episodes WHERE tenant_id = $1 AND status = 'closed' AND closed_on >= $2",
            Some(year_ago),
        )
        .await?;
        let with_outcome = count(
            "SELECT COUNT(*) FROM episodes WHERE tenant_id = $1 AND status = 'closed' AND closed_on >= $2 AND outcome IS NOT NULL",
            Some(year_ago),
        )
        .await?;
        let pct = |a: i64, b: i64| {
            if b == 0 {
                "none yet".to_string()
            } else {
                format!("{}%", a * 100 / b)
            }
        };
        Ok(vec![
            (
                Dimension::Leadership,
                "Partner organisations on the shared record".into(),
                format!("{orgs} organisations, of {org_kinds} kinds with active users"),
            ),
            (
                Dimension::Commissioning,
                "Episodes closed in the last 12 months with an outcome recorded against the shared framework".into(),
                format!("{with_outcome} of {closed} ({})", pct(with_outcome, closed)),
            ),
            (
                Dimension::InformationSharing,
                "Information-sharing agreements in force".into(),
                agreements.to_string(),
            ),
            (
                Dimension::InformationSharing,
                "Feeds imported from partners' systems".into(),
                imports.to_string(),
            ),
            (
                Dimension::IntegratedWorking,
                "Open episodes whose team around the family spans two or more organisations".into(),
                format!("{multi} of {open} ({})", pct(multi, open)),
            ),
            (
                Dimension::IntegratedWorking,
                "Family-led assessments in the last 12 months".into(),
                assessments.to_string(),
            ),
            (
                Dimension::It,
                "Organisations that have sent a referral through the one front door".into(),
                referrers.to_string(),
            ),
        ])
    }
}
