//! The report builder (F16): one aggregate query per report, and saved reports.
//!
//! [`Db::run_report`] turns a `domain::report::Definition` into ONE
//! `SELECT … GROUP BY` in portable SQL, always within one tenant. Each
//! dataset is a [`Source`]: its `FROM` clause and the SQL expression of each
//! column a dimension, filter or measure reads (hub, organisation,
//! profession, date of birth, level, outcome, postcode, date, family, person,
//! numeric value, condition). Adding a dataset is one more `Source`.
//!
//! How dimensions are worked out:
//! - month: `substr(CAST(date AS TEXT), 1, 7)` — ISO text on both backends;
//!   instants stored in milliseconds go through the backend's date function;
//! - age band: the date of birth against boundaries bound from Rust (today);
//! - hub: the hub whose reach covers a postcode, a sector before a district,
//!   the lowest hub id first — `domain::postcode::best_cover` in SQL. A
//!   contact's hub is stored when it is written (the family's hub then); a
//!   referral's is the hub it was sent to, else the family's;
//! - postcode district: the postcode less its inward code, from the family's
//!   (or person's) current address.
//!
//! Nothing here decides who may run a report: callers ask
//! `domain::access::aggregates` first, and show only what
//! `domain::report::tabulate` lets through.

use kindred_domain::report::{AgeBand, Dataset, Definition, Dimension, Measure, RawRow};
use sqlx::Row;
use time::Date;

use crate::{Backend, Db, Result, on_pool};

/// The postcode of a family: the current address of its first current
/// member who has one. (The helpers' aliases start with `z` so they never
/// hide a dataset's own: `r` is a referral.)
pub fn family_postcode_sql(family: &str) -> String {
    format!(
        "(SELECT za.postcode FROM family_members zm JOIN addresses za ON za.person_id = zm.person_id \
         WHERE zm.family_id = {family} AND zm.left_on IS NULL AND za.to_date IS NULL ORDER BY zm.id, za.id LIMIT 1)"
    )
}

/// The postcode of a person's current address.
pub fn person_postcode_sql(person: &str) -> String {
    format!(
        "(SELECT za.postcode FROM addresses za WHERE za.person_id = {person} AND za.to_date IS NULL ORDER BY za.id LIMIT 1)"
    )
}

/// The hub of `tenant` whose reach covers the postcode `pc` (an SQL
/// expression giving a normalised postcode such as `W2 5LA`): a reach
/// sector (`W2 5`) before a district (`W2`), the lowest hub id first.
pub fn hub_of_postcode_sql(pc: &str, tenant: &str) -> String {
    let by = |cut: i32| {
        format!(
            "(SELECT MIN(zr.hub_site_id) FROM hub_reach_areas zr JOIN hub_sites zh ON zh.id = zr.hub_site_id \
             WHERE zh.tenant_id = {tenant} AND upper(trim(zr.area)) = substr({pc}, 1, length({pc}) - {cut}))"
        )
    };
    format!("COALESCE({}, {})", by(2), by(4))
}

/// The hub of a family, from its postcode.
pub fn family_hub_sql(family: &str, tenant: &str) -> String {
    hub_of_postcode_sql(&family_postcode_sql(family), tenant)
}

/// Where a dataset's rows come from and what each column is, in SQL.
struct Source {
    from: String,
    /// (alias, `LEFT JOIN …`): written only when a column reads the alias.
    joins: Vec<(&'static str, &'static str)>,
    tenant: &'static str,
    filter: Option<&'static str>,
    date: Option<String>,
    hub: Option<String>,
    organisation: Option<&'static str>,
    profession: Option<&'static str>,
    born: Option<&'static str>,
    level: Option<&'static str>,
    outcome: Option<&'static str>,
    postcode: Option<String>,
    family: Option<&'static str>,
    person: Option<&'static str>,
    numeric: Option<&'static str>,
    condition: Option<&'static str>,
}

impl Source {
    fn empty(from: &str, tenant: &'static str) -> Source {
        Source {
            from: from.to_string(),
            joins: vec![],
            tenant,
            filter: None,
            date: None,
            hub: None,
            organisation: None,
            profession: None,
            born: None,
            level: None,
            outcome: None,
            postcode: None,
            family: None,
            person: None,
            numeric: None,
            condition: None,
        }
    }
}

/// A date from an instant in milliseconds (UTC), as each backend writes it.
fn ms_date(backend: Backend, col: &str) -> String {
    match backend {
        Backend::Sqlite => format!("date({col} / 1000, 'unixepoch')"),
        Backend::Postgres => format!("CAST(to_timestamp({col} / 1000.0) AT TIME ZONE 'UTC' AS DATE)"),
    }
}

fn source(dataset: Dataset, backend: Backend) -> Source {
    match dataset {
        Dataset::Families => {
            let pc = family_postcode_sql("f.id");
            Source {
                date: Some(ms_date(backend, "f.created_at_ms")),
                hub: Some(hub_of_postcode_sql(&pc, "f.tenant_id")),
                postcode: Some(pc),
                family: Some("f.id"),
                ..Source::empty("families f", "f.tenant_id")
            }
        }
        Dataset::Persons => {
            let pc = person_postcode_sql("p.id");
            Source {
                hub: Some(hub_of_postcode_sql(&pc, "p.tenant_id")),
                postcode: Some(pc),
                born: Some("p.date_of_birth"),
                person: Some("p.id"),
                condition: Some("p.send"),
                ..Source::empty("persons p", "p.tenant_id")
            }
        }
        Dataset::Referrals => Source {
            filter: Some("r.status <> 'draft'"),
            date: Some(ms_date(backend, "r.received_at_ms")),
            hub: Some(format!(
                "COALESCE(r.hub_site_id, {})",
                family_hub_sql("r.family_id", "r.tenant_id")
            )),
            organisation: Some("r.referrer_organisation_id"),
            profession: Some("ru.profession"),
            level: Some("r.level"),
            outcome: Some("r.outcome"),
            postcode: Some(family_postcode_sql("r.family_id")),
            family: Some("r.family_id"),
            condition: Some("r.outcome = 'step_up'"),
            joins: vec![("ru", "LEFT JOIN users ru ON ru.id = r.referrer_user_id")],
            ..Source::empty("referrals r", "r.tenant_id")
        },
        Dataset::Episodes | Dataset::Outcomes => {
            let closed = dataset == Dataset::Outcomes;
            Source {
                filter: closed.then_some("e.status = 'closed'"),
                date: Some(if closed { "e.closed_on" } else { "e.opened_on" }.to_string()),
                hub: Some(family_hub_sql("e.family_id", "e.tenant_id")),
                organisation: Some("eu.organisation_id"),
                profession: Some("eu.profession"),
                level: Some("e.level"),
                outcome: Some("e.outcome"),
                postcode: Some(family_postcode_sql("e.family_id")),
                family: Some("e.family_id"),
                condition: Some(if closed {
                    "e.outcome = 'needs_met'"
                } else {
                    "e.status = 'closed'"
                }),
                joins: vec![("eu", "LEFT JOIN users eu ON eu.id = e.lead_user_id")],
                ..Source::empty("episodes e", "e.tenant_id")
            }
        }
        Dataset::Contacts => Source {
            date: Some("c.occurred_on".into()),
            hub: Some("c.hub_site_id".into()),
            organisation: Some("c.organisation_id"),
            profession: Some("cu.profession"),
            postcode: Some(family_postcode_sql("c.family_id")),
            family: Some("c.family_id"),
            joins: vec![("cu", "LEFT JOIN users cu ON cu.id = c.author_user_id")],
            ..Source::empty("contacts c", "c.tenant_id")
        },
        Dataset::Assessments => Source {
            date: Some("a0.assessed_on".into()),
            hub: Some(family_hub_sql("a0.family_id", "a0.tenant_id")),
            organisation: Some("au.organisation_id"),
            profession: Some("au.profession"),
            postcode: Some(family_postcode_sql("a0.family_id")),
            family: Some("a0.family_id"),
            numeric: Some("s.score"),
            condition: Some("s.score >= 7"),
            joins: vec![("au", "LEFT JOIN users au ON au.id = a0.author_user_id")],
            ..Source::empty(
                "assessment_scores s JOIN assessments a0 ON a0.id = s.assessment_id",
                "a0.tenant_id",
            )
        },
        Dataset::Pathway => {
            let pc = person_postcode_sql("pp.id");
            Source {
                date: Some("w.completed_on".into()),
                hub: Some(hub_of_postcode_sql(&pc, "pp.tenant_id")),
                organisation: Some("pu.organisation_id"),
                profession: Some("pu.profession"),
                born: Some("pp.date_of_birth"),
                postcode: Some(pc),
                person: Some("w.person_id"),
                joins: vec![("pu", "LEFT JOIN users pu ON pu.id = w.recorded_by_user_id")],
                ..Source::empty(
                    "pathway_completions w JOIN persons pp ON pp.id = w.person_id",
                    "pp.tenant_id",
                )
            }
        }
    }
}

/// A value bound to the query.
enum Arg {
    Int(i64),
    Text(String),
    Day(Date),
}

struct Sql {
    args: Vec<Arg>,
}

impl Sql {
    fn bind(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }
}

fn age_band_sql(born: &str, today: Date, sql: &mut Sql) -> String {
    let mut out = format!("CASE WHEN {born} IS NULL THEN NULL");
    let bands = AgeBand::boundaries(today);
    for w in bands.windows(2) {
        let (band, _) = w[0];
        let (_, next_starts) = w[1];
        out.push_str(&format!(
            " WHEN {born} > {} THEN '{}'",
            sql.bind(Arg::Day(next_starts)),
            band.code()
        ));
    }
    let last = bands.last().expect("bands").0;
    out.push_str(&format!(" ELSE '{}' END", last.code()));
    out
}

/// The query for a definition: its text and arguments. Public for the
/// benchmark and tests, which print it.
pub fn report_sql(def: &Definition, tenant_id: i64, today: Date, backend: Backend) -> (String, usize) {
    let (text, args) = build(def, tenant_id, today, backend);
    (text, args.len())
}

fn build(def: &Definition, tenant_id: i64, today: Date, backend: Backend) -> (String, Vec<Arg>) {
    let s = source(def.dataset, backend);
    let mut sql = Sql { args: vec![] };
    let tenant = sql.bind(Arg::Int(tenant_id));
    let none = "NULL".to_string();
    let dim = |d: Dimension, sql: &mut Sql| -> String {
        match d {
            Dimension::Tenant => s.tenant.to_string(),
            Dimension::Hub => s.hub.clone().unwrap_or(none.clone()),
            Dimension::Organisation => s.organisation.map(str::to_string).unwrap_or(none.clone()),
            Dimension::Profession => s.profession.map(str::to_string).unwrap_or(none.clone()),
            Dimension::Level => s.level.map(str::to_string).unwrap_or(none.clone()),
            Dimension::Outcome => s.outcome.map(str::to_string).unwrap_or(none.clone()),
            Dimension::AgeBand => s.born.map(|b| age_band_sql(b, today, sql)).unwrap_or(none.clone()),
            Dimension::PostcodeDistrict => s
                .postcode
                .as_ref()
                .map(|pc| format!("substr({pc}, 1, length({pc}) - 4)"))
                .unwrap_or(none.clone()),
            Dimension::Month => s
                .date
                .as_ref()
                .map(|d| format!("substr(CAST({d} AS TEXT), 1, 7)"))
                .unwrap_or(none.clone()),
        }
    };
    let keys: Vec<String> = def.group_by.iter().map(|d| dim(*d, &mut sql)).collect();
    let mut wheres = vec![format!("{} = {tenant}", s.tenant)];
    if let Some(f) = s.filter {
        wheres.push(f.to_string());
    }
    let f = &def.filters;
    if let Some(date) = &s.date {
        if let Some(from) = f.from {
            wheres.push(format!("{date} >= {}", sql.bind(Arg::Day(from))));
        }
        if let Some(to) = f.to {
            wheres.push(format!("{date} <= {}", sql.bind(Arg::Day(to))));
        }
    }
    if let (Some(h), Some(hub)) = (f.hub, &s.hub) {
        wheres.push(format!("{hub} = {}", sql.bind(Arg::Int(h))));
    }
    if let (Some(o), Some(org)) = (f.organisation, s.organisation) {
        wheres.push(format!("{org} = {}", sql.bind(Arg::Int(o))));
    }
    if let (Some(l), Some(level)) = (f.level, s.level) {
        wheres.push(format!("{level} = {}", sql.bind(Arg::Text(l.code().to_string()))));
    }
    if let (Some(b), Some(born)) = (f.age_band, s.born) {
        let band = age_band_sql(born, today, &mut sql);
        wheres.push(format!("{band} = {}", sql.bind(Arg::Text(b.code().to_string()))));
    }
    let wants = |m: Measure| def.measures.contains(&m);
    let mut inner: Vec<String> = keys.iter().enumerate().map(|(i, k)| format!("{k} AS k{i}")).collect();
    let distinct_col = if wants(Measure::Families) {
        s.family
    } else if wants(Measure::Persons) {
        s.person
    } else {
        None
    };
    let distinct = match distinct_col {
        Some(c) => {
            inner.push(format!("{c} AS d"));
            "COUNT(DISTINCT x.d)"
        }
        None => "CAST(0 AS BIGINT)",
    };
    let meeting = match (wants(Measure::Rate), s.condition) {
        (true, Some(c)) => {
            inner.push(format!("CASE WHEN {c} THEN 1 ELSE 0 END AS ok"));
            "SUM(x.ok)"
        }
        _ => "CAST(0 AS BIGINT)",
    };
    let sum = match (wants(Measure::Average), s.numeric) {
        (true, Some(n)) => {
            inner.push(format!("{n} AS v"));
            "CAST(COALESCE(SUM(x.v), 0) AS DOUBLE PRECISION)"
        }
        _ => "CAST(0 AS DOUBLE PRECISION)",
    };
    let inner = inner.join(", ");
    let wheres = wheres.join(" AND ");
    // A join is written only when something reads it, so a report of
    // contacts by hub and month reads nothing but its index.
    let mut from = s.from.clone();
    for (alias, join) in &s.joins {
        let used = format!("{alias}.");
        if inner.contains(&used) || wheres.contains(&used) {
            from.push(' ');
            from.push_str(join);
        }
    }
    let outer: Vec<String> = (0..keys.len()).map(|i| format!("x.k{i}")).collect();
    let text = format!(
        "SELECT {outer}, COUNT(*), {distinct}, {meeting}, {sum} FROM (SELECT {inner} FROM {from} WHERE {wheres}) x GROUP BY {outer}",
        outer = outer.join(", "),
    );
    (text, sql.args)
}

/// A saved report.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SavedReport {
    pub id: i64,
    pub tenant_id: i64,
    pub organisation_id: i64,
    pub owner_user_id: i64,
    pub owner_name: String,
    pub name: String,
    /// The builder's fields as a JSON array of `[name, value]` pairs.
    pub definition: String,
    pub shared: bool,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

const SAVED: &str = "SELECT s.id, s.tenant_id, s.organisation_id, s.owner_user_id, u.display_name AS owner_name, s.name,
    s.definition, s.shared, s.created_at_ms, s.updated_at_ms FROM saved_reports s JOIN users u ON u.id = s.owner_user_id";

impl Db {
    /// Runs a report as one aggregate query over one tenant: a row per group.
    pub async fn run_report(&self, def: &Definition, tenant_id: i64, today: Date) -> Result<Vec<RawRow>> {
        let (text, args) = build(def, tenant_id, today, self.backend());
        let n = def.group_by.len();
        let rows = on_pool!(self, |p| {
            let mut q = sqlx::query(&text);
            for a in &args {
                q = match a {
                    Arg::Int(i) => q.bind(*i),
                    Arg::Text(s) => q.bind(s.clone()),
                    Arg::Day(d) => q.bind(*d),
                };
            }
            let rows = q.fetch_all(p).await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let mut keys = Vec::with_capacity(n);
                for (i, d) in def.group_by.iter().enumerate() {
                    keys.push(match d {
                        Dimension::Tenant | Dimension::Hub | Dimension::Organisation => {
                            r.try_get::<Option<i64>, _>(i)?.map(|v| v.to_string())
                        }
                        _ => r.try_get::<Option<String>, _>(i)?,
                    });
                }
                out.push(RawRow {
                    keys,
                    count: r.try_get::<i64, _>(n)?,
                    distinct: r.try_get::<i64, _>(n + 1)?,
                    meeting: r.try_get::<Option<i64>, _>(n + 2)?.unwrap_or(0),
                    sum: r.try_get::<f64, _>(n + 3)?,
                });
            }
            Ok::<_, sqlx::Error>(out)
        })?;
        Ok(rows)
    }

    pub async fn create_saved_report(
        &self,
        tenant_id: i64,
        organisation_id: i64,
        owner_user_id: i64,
        name: &str,
        definition: &str,
    ) -> Result<i64> {
        let now = crate::now_ms();
        let (id,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
                "INSERT INTO saved_reports (tenant_id, organisation_id, owner_user_id, name, definition, shared, created_at_ms, updated_at_ms)
                 VALUES ($1, $2, $3, $4, $5, FALSE, $6, $6) RETURNING id",
            )
            .bind(tenant_id)
            .bind(organisation_id)
            .bind(owner_user_id)
            .bind(name)
            .bind(definition)
            .bind(now)
            .fetch_one(p)
            .await
        })?;
        Ok(id)
    }

    pub async fn saved_report(&self, id: i64) -> Result<SavedReport> {
        let sql = format!("{SAVED} WHERE s.id = $1");
        Ok(on_pool!(self, |p| sqlx::query_as(&sql).bind(id).fetch_one(p).await)?)
    }

    /// The reports a user owns, then those shared in their organisation
    /// (within their tenant), newest first.
    pub async fn saved_reports_for(
        &self,
        user_id: i64,
        tenant_id: i64,
        organisation_id: i64,
    ) -> Result<Vec<SavedReport>> {
        let sql = format!(
            "{SAVED} WHERE s.tenant_id = $1 AND (s.owner_user_id = $2 OR (s.shared = TRUE AND s.organisation_id = $3))
             ORDER BY CASE WHEN s.owner_user_id = $2 THEN 0 ELSE 1 END, s.updated_at_ms DESC, s.id DESC"
        );
        Ok(on_pool!(self, |p| sqlx::query_as(&sql)
            .bind(tenant_id)
            .bind(user_id)
            .bind(organisation_id)
            .fetch_all(p)
            .await)?)
    }

    /// Shares or stops sharing the owner's report; false when it is not theirs.
    pub async fn set_saved_report_shared(&self, id: i64, owner_user_id: i64, shared: bool) -> Result<bool> {
        let n = on_pool!(self, |p| sqlx::query(
            "UPDATE saved_reports SET shared = $1, updated_at_ms = $2 WHERE id = $3 AND owner_user_id = $4"
        )
        .bind(shared)
        .bind(crate::now_ms())
        .bind(id)
        .bind(owner_user_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Replaces the owner's report's name and definition.
    pub async fn update_saved_report(&self, id: i64, owner_user_id: i64, name: &str, definition: &str) -> Result<bool> {
        let n = on_pool!(self, |p| {
            sqlx::query(
            "UPDATE saved_reports SET name = $1, definition = $2, updated_at_ms = $3 WHERE id = $4 AND owner_user_id = $5"
        )
        .bind(name)
        .bind(definition)
        .bind(crate::now_ms())
        .bind(id)
        .bind(owner_user_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    pub async fn delete_saved_report(&self, id: i64, owner_user_id: i64) -> Result<bool> {
        let n = on_pool!(self, |p| sqlx::query(
            "DELETE FROM saved_reports WHERE id = $1 AND owner_user_id = $2"
        )
        .bind(id)
        .bind(owner_user_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Every saved report id, for the leak test's walk.
    pub async fn saved_report_ids(&self) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = on_pool!(self, |p| sqlx::query_as("SELECT id FROM saved_reports ORDER BY id")
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// A page of a tenant's contacts as (id, hub, date), in id order after
    /// `after_id`: what the report benchmark hands to DuckDB, so both
    /// engines count the same rows.
    pub async fn contact_hub_dates(
        &self,
        tenant_id: i64,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<(i64, Option<i64>, Date)>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT id, hub_site_id, occurred_on FROM contacts WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        )
        .bind(tenant_id)
        .bind(after_id)
        .bind(limit)
        .fetch_all(p)
        .await)?)
    }

    /// The names of a tenant's organisations, by id (for a report's labels).
    pub async fn organisation_names(&self, tenant_id: i64) -> Result<Vec<(i64, String)>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT id, name FROM organisations WHERE tenant_id = $1 ORDER BY name"
        )
        .bind(tenant_id)
        .fetch_all(p)
        .await)?)
    }
}
