//! The report builder (F16): reports people design themselves.
//!
//! A report [`Definition`] names a [`Dataset`], one or two [`Dimension`]s to
//! group by (hub × month, say), one or more [`Measure`]s, a [`Chart`] and
//! [`Filters`]. The [`CATALOGUE`] says which dimensions and measures each
//! dataset offers (an average only over a numeric field, such as an
//! assessment's score; a rate only where the dataset has a condition, such as
//! an episode being closed). [`parse`] reads a definition from form fields
//! with an error per field, and [`Definition::to_fields`] writes it back, so a
//! saved report is stored as the fields that made it and read through the
//! same checks.
//!
//! [`tabulate`] turns the database's aggregate rows into the figures people
//! see, with small-number suppression (`crate::suppression`) always applied:
//! counts of 1 to 4 are withheld, percentages and averages worked from them
//! too, and the total row is protected so no withheld cell can be worked out
//! by subtraction. There is no unsuppressed view: the author's preview, the
//! saved report, a shared one and the CSV all show the same figures.

use time::Date;

use crate::dates;
use crate::model::code_enum;
use crate::referral::Level;
use crate::suppression::{self, Shown};

code_enum!(
    /// What a report counts: one row of the dataset per thing counted.
    Dataset {
        Families = "families": "Families",
        Persons = "persons": "People",
        Referrals = "referrals": "Referrals",
        Episodes = "episodes": "Episodes of early help",
        Contacts = "contacts": "Contacts",
        Assessments = "assessments": "Family-led assessment scores",
        Outcomes = "outcomes": "Outcomes of closed episodes",
        Pathway = "pathway": "Universal pathway stages completed",
    }
);

code_enum!(
    /// What a report can group by.
    Dimension {
        Tenant = "tenant": "Council",
        Hub = "hub": "Family hub",
        Organisation = "organisation": "Organisation",
        Profession = "profession": "Profession",
        AgeBand = "age_band": "Age band",
        Level = "level": "Level of need",
        Outcome = "outcome": "Outcome",
        PostcodeDistrict = "postcode_district": "Postcode district",
        Month = "month": "Month",
    }
);

code_enum!(
    /// The figures a report can show for each group.
    Measure {
        Count = "count": "Count",
        Families = "families": "Distinct families",
        Persons = "persons": "Distinct people",
        Share = "share": "Percentage of the total",
        Rate = "rate": "Percentage meeting a condition",
        Average = "average": "Average",
    }
);

code_enum!(
    Chart {
        Table = "table": "Table only",
        Bar = "bar": "Bar chart",
        Line = "line": "Line chart (over months)",
    }
);

code_enum!(
    /// Age on the day the report runs, from the date of birth.
    AgeBand {
        Under5 = "0-4": "0 to 4",
        Primary = "5-10": "5 to 10",
        Secondary = "11-15": "11 to 15",
        YoungPeople = "16-18": "16 to 18",
        YoungAdults = "19-25": "19 to 25",
        Adults = "26+": "26 and over",
    }
);

impl AgeBand {
    /// The youngest age in the band.
    pub fn lowest_age(self) -> i32 {
        match self {
            AgeBand::Under5 => 0,
            AgeBand::Primary => 5,
            AgeBand::Secondary => 11,
            AgeBand::YoungPeople => 16,
            AgeBand::YoungAdults => 19,
            AgeBand::Adults => 26,
        }
    }

    /// The band of someone born on `born`, on `today`.
    pub fn of(born: Date, today: Date) -> AgeBand {
        let age = dates::age_in_years(born, today);
        *AgeBand::ALL
            .iter()
            .rev()
            .find(|b| age >= b.lowest_age())
            .unwrap_or(&AgeBand::Under5)
    }

    /// For each band after the first, the latest date of birth of someone
    /// already that old on `today` (born on or before it): a query puts a
    /// person in the first band whose boundary they were born after.
    pub fn boundaries(today: Date) -> Vec<(AgeBand, Date)> {
        AgeBand::ALL
            .iter()
            .map(|b| (*b, years_before(today, b.lowest_age())))
            .collect()
    }
}

/// `today` less `years` years; 29 February becomes 28 February.
pub fn years_before(today: Date, years: i32) -> Date {
    let y = today.year() - years;
    Date::from_calendar_date(y, today.month(), today.day())
        .or_else(|_| Date::from_calendar_date(y, today.month(), 28))
        .unwrap_or(today)
}

/// What a dataset offers.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub dataset: Dataset,
    /// What one row is, in the plural: "contacts".
    pub noun: &'static str,
    pub hint: &'static str,
    pub dimensions: &'static [Dimension],
    pub measures: &'static [Measure],
    /// What the month and the date range are of, when the dataset has a date.
    pub date_label: Option<&'static str>,
    /// The condition a rate counts, when the dataset has one.
    pub condition: Option<&'static str>,
    /// The numeric field an average is of, when the dataset has one.
    pub numeric: Option<&'static str>,
}

use Dimension as D;
use Measure as M;

/// Every dataset and what it offers. Adding a dataset is an entry here and
/// its SQL source in `store::reports`.
pub const CATALOGUE: &[Spec] = &[
    Spec {
        dataset: Dataset::Families,
        noun: "families",
        hint: "Every family record of the council, by where the family lives and when the record was made.",
        dimensions: &[D::Tenant, D::Hub, D::PostcodeDistrict, D::Month],
        measures: &[M::Count, M::Share],
        date_label: Some("record made"),
        condition: None,
        numeric: None,
    },
    Spec {
        dataset: Dataset::Persons,
        noun: "people",
        hint: "Every person on record, by where they live and their age today.",
        dimensions: &[D::Tenant, D::Hub, D::AgeBand, D::PostcodeDistrict],
        measures: &[M::Count, M::Share, M::Rate],
        date_label: None,
        condition: Some("with special educational needs and disabilities (SEND)"),
        numeric: None,
    },
    Spec {
        dataset: Dataset::Referrals,
        noun: "referrals",
        hint: "Referrals sent to the front door (drafts are not counted), by who referred and what triage decided.",
        dimensions: &[
            D::Tenant,
            D::Hub,
            D::Organisation,
            D::Profession,
            D::Level,
            D::Outcome,
            D::PostcodeDistrict,
            D::Month,
        ],
        measures: &[M::Count, M::Families, M::Share, M::Rate],
        date_label: Some("received"),
        condition: Some("stepped up to children's social care"),
        numeric: None,
    },
    Spec {
        dataset: Dataset::Episodes,
        noun: "episodes",
        hint: "Episodes of early help, open or closed, by the lead professional's organisation and profession.",
        dimensions: &[
            D::Tenant,
            D::Hub,
            D::Organisation,
            D::Profession,
            D::Level,
            D::Outcome,
            D::PostcodeDistrict,
            D::Month,
        ],
        measures: &[M::Count, M::Families, M::Share, M::Rate],
        date_label: Some("opened"),
        condition: Some("closed"),
        numeric: None,
    },
    Spec {
        dataset: Dataset::Contacts,
        noun: "contacts",
        hint: "Contacts with families, by the author's organisation and profession and the hub whose area the family lived in when the contact was recorded.",
        dimensions: &[
            D::Tenant,
            D::Hub,
            D::Organisation,
            D::Profession,
            D::PostcodeDistrict,
            D::Month,
        ],
        measures: &[M::Count, M::Families, M::Share],
        date_label: Some("contact"),
        condition: None,
        numeric: None,
    },
    Spec {
        dataset: Dataset::Assessments,
        noun: "scores",
        hint: "Each area's score (1 to 10) in family-led assessments.",
        dimensions: &[
            D::Tenant,
            D::Hub,
            D::Organisation,
            D::Profession,
            D::PostcodeDistrict,
            D::Month,
        ],
        measures: &[M::Count, M::Families, M::Share, M::Average, M::Rate],
        date_label: Some("assessment"),
        condition: Some("scored 7 or more"),
        numeric: Some("score"),
    },
    Spec {
        dataset: Dataset::Outcomes,
        noun: "closed episodes",
        hint: "Episodes of early help that have closed, by their outcome.",
        dimensions: &[
            D::Tenant,
            D::Hub,
            D::Organisation,
            D::Profession,
            D::Level,
            D::Outcome,
            D::PostcodeDistrict,
            D::Month,
        ],
        measures: &[M::Count, M::Families, M::Share, M::Rate],
        date_label: Some("closure"),
        condition: Some("closed with needs met"),
        numeric: None,
    },
    Spec {
        dataset: Dataset::Pathway,
        noun: "stages completed",
        hint: "Universal pathway stages completed, by the child's age today and who recorded them.",
        dimensions: &[
            D::Tenant,
            D::Hub,
            D::Organisation,
            D::Profession,
            D::AgeBand,
            D::PostcodeDistrict,
            D::Month,
        ],
        measures: &[M::Count, M::Persons, M::Share],
        date_label: Some("completion"),
        condition: None,
        numeric: None,
    },
];

impl Dataset {
    pub fn spec(self) -> &'static Spec {
        CATALOGUE
            .iter()
            .find(|s| s.dataset == self)
            .expect("every dataset is in the catalogue")
    }
}

impl Spec {
    pub fn offers(&self, d: Dimension) -> bool {
        self.dimensions.contains(&d)
    }

    /// A measure's column heading for this dataset.
    pub fn measure_label(&self, m: Measure) -> String {
        match m {
            Measure::Count => format!("Number of {}", self.noun),
            Measure::Families => "Distinct families".into(),
            Measure::Persons => "Distinct people".into(),
            Measure::Share => "Percentage of the total".into(),
            Measure::Rate => format!("Percentage {}", self.condition.unwrap_or("")),
            Measure::Average => format!("Average {}", self.numeric.unwrap_or("")),
        }
    }
}

/// What a report is narrowed to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub hub: Option<i64>,
    pub organisation: Option<i64>,
    pub level: Option<Level>,
    pub age_band: Option<AgeBand>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub dataset: Dataset,
    /// One or two dimensions, different.
    pub group_by: Vec<Dimension>,
    /// One or more, in catalogue order, each offered by the dataset.
    pub measures: Vec<Measure>,
    pub chart: Chart,
    pub filters: Filters,
}

/// A problem with one field of the builder form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

fn get<'a>(fields: &'a [(String, String)], key: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.trim())
        .unwrap_or("")
}

fn date_field(
    fields: &[(String, String)],
    prefix: &'static str,
    what: &str,
    errors: &mut Vec<FieldError>,
) -> Option<Date> {
    let part = |p: &str| get(fields, &format!("{prefix}_{p}")).to_string();
    let (d, m, y) = (part("day"), part("month"), part("year"));
    if d.is_empty() && m.is_empty() && y.is_empty() {
        return None;
    }
    match dates::parse_date_parts(&d, &m, &y) {
        Ok(date) => Some(date),
        Err(e) => {
            errors.push(FieldError {
                field: prefix,
                message: format!("The {what} date {e}"),
            });
            None
        }
    }
}

/// Reads a definition from the builder's fields: `dataset`, `group1`,
/// `group2` (optional), `measure_<code>=yes` for each measure, `chart`, and
/// the filters `from_day|month|year`, `to_…`, `hub`, `organisation`, `level`
/// and `age_band` (each optional). Every problem is reported, by field.
pub fn parse(fields: &[(String, String)]) -> Result<Definition, Vec<FieldError>> {
    let mut errors = vec![];
    let err =
        |errors: &mut Vec<FieldError>, field: &'static str, message: String| errors.push(FieldError { field, message });
    let Some(dataset) = Dataset::parse(get(fields, "dataset")) else {
        err(&mut errors, "dataset", "Select what to report on".into());
        return Err(errors);
    };
    let spec = dataset.spec();
    let mut group_by = vec![];
    match get(fields, "group1") {
        "" => err(&mut errors, "group1", "Select what to group by".into()),
        code => match Dimension::parse(code).filter(|d| spec.offers(*d)) {
            Some(d) => group_by.push(d),
            None => err(
                &mut errors,
                "group1",
                format!(
                    "{} cannot be grouped by that: choose one of the groupings listed",
                    dataset.label()
                ),
            ),
        },
    }
    match get(fields, "group2") {
        "" | "none" => {}
        code => match Dimension::parse(code).filter(|d| spec.offers(*d)) {
            Some(d) if group_by.contains(&d) => err(
                &mut errors,
                "group2",
                "Select a different second grouping, or none".into(),
            ),
            Some(d) => group_by.push(d),
            None => err(
                &mut errors,
                "group2",
                format!(
                    "{} cannot be grouped by that: choose one of the groupings listed",
                    dataset.label()
                ),
            ),
        },
    }
    let mut measures = vec![];
    for m in Measure::ALL {
        let ticked = get(fields, &format!("measure_{}", m.code())) == "yes";
        if ticked {
            if spec.measures.contains(m) {
                measures.push(*m);
            } else {
                err(
                    &mut errors,
                    "measures",
                    format!("{} is not available for {}", m.label(), dataset.label().to_lowercase()),
                );
            }
        }
    }
    if measures.is_empty() && !errors.iter().any(|e| e.field == "measures") {
        err(&mut errors, "measures", "Select at least one figure to show".into());
    }
    let chart = match get(fields, "chart") {
        "" => Chart::Table,
        c => Chart::parse(c).unwrap_or_else(|| {
            err(&mut errors, "chart", "Select a table, bar chart or line chart".into());
            Chart::Table
        }),
    };
    if chart == Chart::Line
        && !group_by.contains(&Dimension::Month)
        && !errors.iter().any(|e| e.field.starts_with("group"))
    {
        err(
            &mut errors,
            "chart",
            "A line chart shows change over months: group by month, or choose a bar chart".into(),
        );
    }
    let mut filters = Filters::default();
    let has_date = spec.offers(Dimension::Month);
    if has_date {
        filters.from = date_field(fields, "from", "start", &mut errors);
        filters.to = date_field(fields, "to", "end", &mut errors);
        if let (Some(f), Some(t)) = (filters.from, filters.to)
            && t < f
        {
            err(
                &mut errors,
                "to",
                "The end date must be the same as or after the start date".into(),
            );
        }
    }
    let id_filter = |key: &'static str, dim: Dimension, what: &str, errors: &mut Vec<FieldError>| match get(fields, key)
    {
        "" => None,
        _ if !spec.offers(dim) => None,
        v => match v.parse::<i64>() {
            Ok(id) if id > 0 => Some(id),
            _ => {
                errors.push(FieldError {
                    field: key,
                    message: format!("Select a {what} from the list"),
                });
                None
            }
        },
    };
    filters.hub = id_filter("hub", Dimension::Hub, "family hub", &mut errors);
    filters.organisation = id_filter("organisation", Dimension::Organisation, "organisation", &mut errors);
    if spec.offers(Dimension::Level) {
        match get(fields, "level") {
            "" => {}
            v => match Level::parse(v) {
                Some(l) => filters.level = Some(l),
                None => err(&mut errors, "level", "Select a level of need from the list".into()),
            },
        }
    }
    if spec.offers(Dimension::AgeBand) {
        match get(fields, "age_band") {
            "" => {}
            v => match AgeBand::parse(v) {
                Some(b) => filters.age_band = Some(b),
                None => err(&mut errors, "age_band", "Select an age band from the list".into()),
            },
        }
    }
    if errors.is_empty() {
        Ok(Definition {
            dataset,
            group_by,
            measures,
            chart,
            filters,
        })
    } else {
        Err(errors)
    }
}

impl Definition {
    pub fn spec(&self) -> &'static Spec {
        self.dataset.spec()
    }

    /// The fields [`parse`] reads this definition from: what a saved report stores.
    pub fn to_fields(&self) -> Vec<(String, String)> {
        let mut out = vec![("dataset".to_string(), self.dataset.code().to_string())];
        for (i, d) in self.group_by.iter().enumerate() {
            out.push((format!("group{}", i + 1), d.code().to_string()));
        }
        for m in &self.measures {
            out.push((format!("measure_{}", m.code()), "yes".into()));
        }
        out.push(("chart".into(), self.chart.code().into()));
        let f = &self.filters;
        for (prefix, date) in [("from", f.from), ("to", f.to)] {
            if let Some(d) = date {
                out.push((format!("{prefix}_day"), d.day().to_string()));
                out.push((format!("{prefix}_month"), (d.month() as u8).to_string()));
                out.push((format!("{prefix}_year"), d.year().to_string()));
            }
        }
        if let Some(h) = f.hub {
            out.push(("hub".into(), h.to_string()));
        }
        if let Some(o) = f.organisation {
            out.push(("organisation".into(), o.to_string()));
        }
        if let Some(l) = f.level {
            out.push(("level".into(), l.code().into()));
        }
        if let Some(b) = f.age_band {
            out.push(("age_band".into(), b.code().into()));
        }
        out
    }

    /// A plain description: "Contacts by family hub and month".
    pub fn title(&self) -> String {
        let by: Vec<String> = self.group_by.iter().map(|d| d.label().to_lowercase()).collect();
        format!("{} by {}", self.dataset.label(), by.join(" and "))
    }
}

/// What is known about a saved report for deciding who may open it.
#[derive(Debug, Clone, Copy)]
pub struct SavedFacts {
    pub tenant_id: i64,
    pub organisation_id: i64,
    pub owner_user_id: i64,
    pub shared: bool,
}

/// Whether `subject` may open (run, export) a saved report: someone who may
/// see aggregates of the report's tenant, who owns it or belongs to the
/// organisation it is shared with.
pub fn may_open(subject: &crate::access::Subject, r: &SavedFacts) -> bool {
    crate::access::aggregates(subject, r.tenant_id)
        && (r.owner_user_id == subject.user_id || (r.shared && r.organisation_id == subject.organisation_id))
}

/// Whether `subject` may change (share, rename, delete) a saved report: only its owner.
pub fn may_change(subject: &crate::access::Subject, r: &SavedFacts) -> bool {
    may_open(subject, r) && r.owner_user_id == subject.user_id
}

/// One group as the database returns it: the dimension values (as text, in
/// `group_by` order; `None` when not known), how many rows, how many distinct
/// families or people, how many meet the condition, and the numeric sum.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawRow {
    pub keys: Vec<Option<String>>,
    pub count: i64,
    pub distinct: i64,
    pub meeting: i64,
    pub sum: f64,
}

/// A figure as shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    Count(Shown<i64>),
    Percent(Option<Shown<f64>>),
    Average(Option<Shown<f64>>),
    /// Not worked out for this row (a distinct count in the total row).
    Blank,
}

impl Cell {
    /// As shown in the table and the CSV.
    pub fn text(&self) -> String {
        match self {
            Cell::Count(c) => c.to_string(),
            Cell::Percent(Some(Shown::Value(v))) => format!("{v:.1}%"),
            Cell::Average(Some(Shown::Value(v))) => format!("{v:.1}"),
            Cell::Percent(Some(Shown::Withheld)) | Cell::Average(Some(Shown::Withheld)) => {
                suppression::MARK.to_string()
            }
            Cell::Percent(None) | Cell::Average(None) | Cell::Blank => String::new(),
        }
    }

    /// The value a chart draws, when there is one to draw.
    pub fn value(&self) -> Option<f64> {
        match self {
            Cell::Count(Shown::Value(v)) => Some(*v as f64),
            Cell::Percent(Some(Shown::Value(v))) | Cell::Average(Some(Shown::Value(v))) => Some(*v),
            _ => None,
        }
    }

    pub fn is_withheld(&self) -> bool {
        matches!(
            self,
            Cell::Count(Shown::Withheld) | Cell::Percent(Some(Shown::Withheld)) | Cell::Average(Some(Shown::Withheld))
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The dimension values' codes (for sorting and charts) and labels.
    pub keys: Vec<(Option<String>, String)>,
    pub cells: Vec<Cell>,
}

/// A report's figures, suppressed.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Dimension headings, then measure headings.
    pub headers: Vec<String>,
    pub dimensions: usize,
    pub rows: Vec<Row>,
    pub total: Row,
}

impl Table {
    /// Every line of the table as text: the header row, each row, the total.
    pub fn lines(&self) -> Vec<Vec<String>> {
        let mut out = vec![self.headers.clone()];
        for r in self.rows.iter().chain(std::iter::once(&self.total)) {
            out.push(
                r.keys
                    .iter()
                    .map(|k| k.1.clone())
                    .chain(r.cells.iter().map(|c| c.text()))
                    .collect(),
            );
        }
        out
    }

    pub fn any_withheld(&self) -> bool {
        self.rows
            .iter()
            .chain(std::iter::once(&self.total))
            .any(|r| r.cells.iter().any(|c| c.is_withheld()))
    }
}

/// What a dimension's value is called. Hubs and organisations by name (from
/// the store), the rest from the vocabularies.
pub trait Labels {
    fn hub(&self, id: &str) -> Option<String>;
    fn organisation(&self, id: &str) -> Option<String>;
    fn tenant(&self, id: &str) -> Option<String>;
}

pub const NOT_KNOWN: &str = "Not known";

fn label(dataset: Dataset, d: Dimension, key: Option<&str>, labels: &dyn Labels) -> String {
    let Some(k) = key else {
        return match d {
            Dimension::Hub => "Outside every hub's reach".into(),
            Dimension::Outcome if matches!(dataset, Dataset::Episodes | Dataset::Referrals) => "Not yet decided".into(),
            _ => NOT_KNOWN.into(),
        };
    };
    let known = match d {
        Dimension::Tenant => labels.tenant(k),
        Dimension::Hub => labels.hub(k),
        Dimension::Organisation => labels.organisation(k),
        Dimension::Profession => crate::model::Profession::parse(k).map(|p| p.label().to_string()),
        Dimension::AgeBand => AgeBand::parse(k).map(|b| b.label().to_string()),
        Dimension::Level => Level::parse(k).map(|l| l.label().to_string()),
        Dimension::Outcome => match dataset {
            Dataset::Referrals => crate::referral::Outcome::parse(k).map(|o| o.label().to_string()),
            _ => crate::episode::Outcome::parse(k).map(|o| o.label().to_string()),
        },
        Dimension::PostcodeDistrict => Some(k.to_string()),
        Dimension::Month => month_label(k),
    };
    known.unwrap_or_else(|| k.to_string())
}

/// "2026-03" as "March 2026".
pub fn month_label(code: &str) -> Option<String> {
    let (y, m) = code.split_once('-')?;
    let m: usize = m.parse().ok()?;
    let name = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ]
    .get(m.checked_sub(1)?)?;
    Some(format!("{name} {y}"))
}

/// The order rows are shown in, per dimension: months and age bands in
/// their own order, others by label; "not known" last.
fn sort_key(d: Dimension, key: &(Option<String>, String)) -> (bool, String) {
    let k = match (d, &key.0) {
        (_, None) => String::new(),
        (Dimension::Month | Dimension::Level, Some(c)) => c.clone(),
        (Dimension::AgeBand, Some(c)) => format!("{:02}", AgeBand::parse(c).map(|b| b.lowest_age()).unwrap_or(99)),
        (_, Some(_)) => key.1.to_lowercase(),
    };
    (key.0.is_none(), k)
}

/// The report's figures from the database's rows: labelled, sorted, and
/// suppressed. The count column (when shown) has a total, protected so no
/// withheld cell can be worked out from it; a percentage or an average of a
/// withheld count is withheld too.
pub fn tabulate(def: &Definition, raw: &[RawRow], labels: &dyn Labels) -> Table {
    let spec = def.spec();
    let grid = complete_grid(def, raw);
    let mut raw: Vec<&RawRow> = grid.iter().collect();
    let keyed: Vec<Vec<(Option<String>, String)>> = raw
        .iter()
        .map(|r| {
            def.group_by
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    let k = r.keys.get(i).cloned().flatten();
                    let l = label(def.dataset, *d, k.as_deref(), labels);
                    (k, l)
                })
                .collect()
        })
        .collect();
    let mut order: Vec<usize> = (0..raw.len()).collect();
    order.sort_by(|a, b| {
        let ka: Vec<_> = def
            .group_by
            .iter()
            .zip(&keyed[*a])
            .map(|(d, k)| sort_key(*d, k))
            .collect();
        let kb: Vec<_> = def
            .group_by
            .iter()
            .zip(&keyed[*b])
            .map(|(d, k)| sort_key(*d, k))
            .collect();
        ka.cmp(&kb)
    });
    raw = order.iter().map(|i| raw[*i]).collect();
    let keyed: Vec<_> = order.iter().map(|i| keyed[*i].clone()).collect();
    let counts: Vec<i64> = raw.iter().map(|r| r.count).collect();
    let total_count: i64 = counts.iter().sum();
    // The shown counts, protected against the total beside them.
    let shown = suppression::protect_total(&counts);
    let total_shown = suppression::count(total_count);
    let mut rows = vec![];
    for ((r, keys), c) in raw.iter().zip(keyed).zip(&shown) {
        let cells = def
            .measures
            .iter()
            .map(|m| cell(*m, r.count, *c, r.distinct, r.meeting, r.sum, total_count, total_shown))
            .collect();
        rows.push(Row { keys, cells });
    }
    let meeting: i64 = raw.iter().map(|r| r.meeting).sum();
    let sum: f64 = raw.iter().map(|r| r.sum).sum();
    let total = Row {
        keys: def
            .group_by
            .iter()
            .enumerate()
            .map(|(i, _)| (None, if i == 0 { "Total".to_string() } else { String::new() }))
            .collect(),
        cells: def
            .measures
            .iter()
            .map(|m| match m {
                Measure::Families | Measure::Persons => Cell::Blank,
                m => cell(*m, total_count, total_shown, 0, meeting, sum, total_count, total_shown),
            })
            .collect(),
    };
    let mut headers: Vec<String> = def.group_by.iter().map(|d| d.label().to_string()).collect();
    headers.extend(def.measures.iter().map(|m| spec.measure_label(*m)));
    Table {
        headers,
        dimensions: def.group_by.len(),
        rows,
        total,
    }
}

/// With two groupings, every pairing of the values seen, a missing one as
/// zero: a hub with no contacts in a month shows 0 there, not a gap.
fn complete_grid(def: &Definition, raw: &[RawRow]) -> Vec<RawRow> {
    let mut out = raw.to_vec();
    if def.group_by.len() != 2 {
        return out;
    }
    let mut firsts: Vec<Option<String>> = vec![];
    let mut seconds: Vec<Option<String>> = vec![];
    for r in raw {
        if !firsts.contains(&r.keys[0]) {
            firsts.push(r.keys[0].clone());
        }
        if !seconds.contains(&r.keys[1]) {
            seconds.push(r.keys[1].clone());
        }
    }
    for a in &firsts {
        for b in &seconds {
            if !raw.iter().any(|r| r.keys[0] == *a && r.keys[1] == *b) {
                out.push(RawRow {
                    keys: vec![a.clone(), b.clone()],
                    ..RawRow::default()
                });
            }
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn cell(
    m: Measure,
    count: i64,
    shown: Shown<i64>,
    distinct: i64,
    meeting: i64,
    sum: f64,
    total: i64,
    total_shown: Shown<i64>,
) -> Cell {
    let hidden = shown.is_withheld();
    match m {
        Measure::Count => Cell::Count(shown),
        Measure::Families | Measure::Persons => Cell::Count(if hidden {
            Shown::Withheld
        } else {
            suppression::count(distinct)
        }),
        Measure::Share => Cell::Percent(match suppression::percentage(count, total) {
            Some(_) if hidden || total_shown.is_withheld() => Some(Shown::Withheld),
            p => p,
        }),
        Measure::Rate => Cell::Percent(match suppression::percentage(meeting, count) {
            Some(_) if hidden => Some(Shown::Withheld),
            p => p,
        }),
        Measure::Average => Cell::Average(match suppression::average(sum, count) {
            Some(_) if hidden => Some(Shown::Withheld),
            a => a,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn f(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    struct NoLabels;
    impl Labels for NoLabels {
        fn hub(&self, id: &str) -> Option<String> {
            Some(format!("Hub {id}"))
        }
        fn organisation(&self, _: &str) -> Option<String> {
            None
        }
        fn tenant(&self, _: &str) -> Option<String> {
            None
        }
    }

    #[test]
    fn a_complete_form_parses_and_round_trips() {
        let fields = f(&[
            ("dataset", "contacts"),
            ("group1", "hub"),
            ("group2", "month"),
            ("measure_count", "yes"),
            ("measure_share", "yes"),
            ("chart", "line"),
            ("from_day", "1"),
            ("from_month", "4"),
            ("from_year", "2025"),
            ("hub", "7"),
        ]);
        let d = parse(&fields).unwrap();
        assert_eq!(d.group_by, vec![Dimension::Hub, Dimension::Month]);
        assert_eq!(d.measures, vec![Measure::Count, Measure::Share]);
        assert_eq!(d.filters.from, Some(date!(2025 - 04 - 01)));
        assert_eq!(d.filters.hub, Some(7));
        assert_eq!(parse(&d.to_fields()).unwrap(), d);
        assert_eq!(d.title(), "Contacts by family hub and month");
    }

    #[test]
    fn each_problem_is_named_by_its_field() {
        let e = parse(&f(&[
            ("dataset", "persons"),
            ("group1", "month"),
            ("group2", "month"),
            ("measure_average", "yes"),
            ("chart", "pie"),
        ]))
        .unwrap_err();
        let fields: Vec<&str> = e.iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["group1", "group2", "measures", "chart"]);
        let e = parse(&f(&[
            ("dataset", "episodes"),
            ("group1", "hub"),
            ("measure_count", "yes"),
            ("chart", "line"),
        ]))
        .unwrap_err();
        assert_eq!(e[0].field, "chart");
        let e = parse(&f(&[
            ("dataset", "episodes"),
            ("group1", "hub"),
            ("measure_count", "yes"),
            ("from_day", "31"),
            ("from_month", "2"),
            ("from_year", "2025"),
            ("to_day", "1"),
            ("to_month", "1"),
            ("to_year", "2025"),
            ("level", "9"),
        ]))
        .unwrap_err();
        assert_eq!(e.iter().map(|e| e.field).collect::<Vec<_>>(), vec!["from", "level"]);
        assert_eq!(parse(&f(&[])).unwrap_err()[0].field, "dataset");
        assert_eq!(
            parse(&f(&[("dataset", "contacts"), ("group1", "hub")])).unwrap_err()[0].field,
            "measures"
        );
    }

    #[test]
    fn age_bands_turn_on_the_birthday() {
        let today = date!(2026 - 03 - 10);
        assert_eq!(AgeBand::of(date!(2021 - 03 - 11), today), AgeBand::Under5);
        assert_eq!(AgeBand::of(date!(2021 - 03 - 10), today), AgeBand::Primary);
        assert_eq!(AgeBand::of(date!(2000 - 01 - 01), today), AgeBand::Adults);
        let b = AgeBand::boundaries(date!(2024 - 02 - 29));
        assert_eq!(b[1], (AgeBand::Primary, date!(2019 - 02 - 28)));
    }

    fn def(measures: &[Measure]) -> Definition {
        Definition {
            dataset: Dataset::Assessments,
            group_by: vec![Dimension::Hub],
            measures: measures.to_vec(),
            chart: Chart::Bar,
            filters: Filters::default(),
        }
    }

    fn raw(key: Option<&str>, count: i64, meeting: i64, sum: f64) -> RawRow {
        RawRow {
            keys: vec![key.map(str::to_string)],
            count,
            distinct: count,
            meeting,
            sum,
        }
    }

    #[test]
    fn small_numbers_are_withheld_with_what_is_worked_from_them() {
        let d = def(&[Measure::Count, Measure::Share, Measure::Rate, Measure::Average]);
        let t = tabulate(
            &d,
            &[
                raw(Some("2"), 3, 3, 21.0),
                raw(Some("1"), 40, 10, 200.0),
                raw(None, 5, 0, 25.0),
                raw(Some("3"), 0, 0, 0.0),
            ],
            &NoLabels,
        );
        let lines = t.lines();
        assert_eq!(lines[0][0], "Family hub");
        // Hub 1, Hub 2, Hub 3, then outside every hub.
        assert_eq!(lines[1], vec!["Hub 1", "40", "83.3%", "25.0%", "5.0"]);
        assert_eq!(lines[2], vec!["Hub 2", "[c]", "[c]", "[c]", "[c]"]);
        assert_eq!(lines[3], vec!["Hub 3", "0", "0.0%", "", ""]);
        // 5 is shown alone, but with one cell withheld the next smallest goes too.
        assert_eq!(lines[4], vec!["Outside every hub's reach", "[c]", "[c]", "[c]", "[c]"]);
        assert_eq!(lines[5], vec!["Total", "48", "100.0%", "27.1%", "5.1"]);
        assert!(t.any_withheld());
    }

    #[test]
    fn a_saved_report_opens_for_its_owner_and_its_organisation_only() {
        use crate::access::Subject;
        use crate::model::{Profession, Role};
        let who = |user_id, organisation_id, tenant_id, roles: Vec<Role>| Subject {
            user_id,
            tenant_id,
            organisation_id,
            profession: Profession::Analyst,
            roles,
            active: true,
        };
        let r = SavedFacts {
            tenant_id: 1,
            organisation_id: 10,
            owner_user_id: 5,
            shared: false,
        };
        let owner = who(5, 10, 1, vec![Role::Manager]);
        let colleague = who(6, 10, 1, vec![Role::Analyst]);
        let other_org = who(7, 11, 1, vec![Role::Manager]);
        let practitioner = who(8, 10, 1, vec![Role::Practitioner]);
        let other_tenant = who(9, 10, 2, vec![Role::Manager]);
        assert!(may_open(&owner, &r) && may_change(&owner, &r));
        assert!(!may_open(&colleague, &r));
        let shared = SavedFacts { shared: true, ..r };
        assert!(may_open(&colleague, &shared) && !may_change(&colleague, &shared));
        assert!(!may_open(&other_org, &shared));
        assert!(!may_open(&practitioner, &shared));
        assert!(!may_open(&other_tenant, &shared));
    }

    #[test]
    fn two_groupings_fill_the_grid_with_zeros() {
        let d = Definition {
            dataset: Dataset::Contacts,
            group_by: vec![Dimension::Hub, Dimension::Month],
            measures: vec![Measure::Count],
            chart: Chart::Line,
            filters: Filters::default(),
        };
        let row = |h: &str, m: &str, count| RawRow {
            keys: vec![Some(h.into()), Some(m.into())],
            count,
            ..RawRow::default()
        };
        let t = tabulate(&d, &[row("1", "2025-01", 7), row("2", "2025-02", 9)], &NoLabels);
        let lines = t.lines();
        assert_eq!(lines[0], vec!["Family hub", "Month", "Number of contacts"]);
        assert_eq!(lines[1], vec!["Hub 1", "January 2025", "7"]);
        assert_eq!(lines[2], vec!["Hub 1", "February 2025", "0"]);
        assert_eq!(lines[3], vec!["Hub 2", "January 2025", "0"]);
        assert_eq!(lines[4], vec!["Hub 2", "February 2025", "9"]);
        assert_eq!(lines[5], vec!["Total", "", "16"]);
    }

    proptest! {
        #[test]
        fn every_field_set_either_parses_or_names_a_field(
            dataset in proptest::sample::select(vec!["", "contacts", "persons", "outcomes", "pathway", "nope"]),
            g1 in proptest::sample::select(vec!["", "hub", "month", "age_band", "level", "x"]),
            g2 in proptest::sample::select(vec!["", "none", "hub", "month", "profession"]),
            ms in proptest::collection::vec(proptest::sample::select(vec!["count", "families", "persons", "share", "rate", "average"]), 0..4),
            chart in proptest::sample::select(vec!["", "table", "bar", "line", "pie"]),
        ) {
            let mut fields = f(&[("dataset", dataset), ("group1", g1), ("group2", g2), ("chart", chart)]);
            for m in &ms { fields.push((format!("measure_{m}"), "yes".into())); }
            match parse(&fields) {
                Ok(d) => {
                    let spec = d.spec();
                    prop_assert!(d.group_by.iter().all(|g| spec.offers(*g)));
                    prop_assert!(!d.measures.is_empty() && d.measures.iter().all(|m| spec.measures.contains(m)));
                    prop_assert!(d.group_by.len() <= 2 && (d.group_by.len() < 2 || d.group_by[0] != d.group_by[1]));
                    prop_assert!(d.chart != Chart::Line || d.group_by.contains(&Dimension::Month));
                    prop_assert_eq!(parse(&d.to_fields()).unwrap(), d);
                }
                Err(e) => {
                    prop_assert!(!e.is_empty());
                    for x in e { prop_assert!(["dataset", "group1", "group2", "measures", "chart"].contains(&x.field)); }
                }
            }
        }

        /// Whatever the figures, no count from 1 to 4 is shown, the total
        /// is the sum, and never exactly one count is withheld while the
        /// total is shown (unless it is the only non-zero one).
        #[test]
        fn no_small_count_is_shown(counts in proptest::collection::vec(0i64..12, 1..10)) {
            let rows: Vec<RawRow> = counts.iter().enumerate().map(|(i, c)| raw(Some(&i.to_string()), *c, 0, 0.0)).collect();
            let t = tabulate(&def(&[Measure::Count, Measure::Share]), &rows, &NoLabels);
            let total: i64 = counts.iter().sum();
            prop_assert_eq!(t.total.cells[0], Cell::Count(suppression::count(total)));
            let mut hidden = 0;
            for r in &t.rows {
                match r.cells[0] {
                    Cell::Count(Shown::Value(v)) => prop_assert!(!suppression::withheld(v)),
                    _ => { hidden += 1; prop_assert!(r.cells[1].is_withheld() || r.cells[1] == Cell::Percent(None)); }
                }
            }
            prop_assert!(hidden != 1 || counts.iter().filter(|c| **c > 0).count() == 1);
        }
    }
}
