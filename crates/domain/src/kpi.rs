//! The partnership's key performance indicators (issue 7, item 3): what each
//! one counts, and how facts are tabulated by place (hub, ward or postcode
//! district) and month. Pure: the store gathers [`Fact`]s, the web shows the
//! [`Table`]s through [`crate::suppression`].
//!
//! Every indicator is one or more series. A series is either a rate (each
//! fact adds one to the denominator, and one to the numerator when it
//! counts) or a plain count (each fact adds one).

use std::collections::BTreeMap;

use time::Date;

use crate::development::age_in_months;
use crate::model::code_enum;
use crate::pathway::{PathwayModel, Stage};

code_enum!(
    Kpi {
        Reach = "reach": "Reach: births and families registered",
        Triage = "triage": "Referrals triaged within target",
        ReReferrals = "re_referrals": "Re-referrals within 12 months",
        Outcomes = "outcomes": "Episodes closed with needs met",
        Steps = "steps": "Step-ups and step-downs",
        ContactModes = "contact_modes": "Contacts by mode",
        Pathway = "pathway": "Universal pathway: stages completed on time",
        Asq = "asq": "ASQ-3 at 2 to 2½ years",
        Breastfeeding = "breastfeeding": "Breastfeeding at 6–8 weeks",
    }
);

impl Kpi {
    /// Whether the series are rates (numerator of denominator) or counts.
    pub fn is_rate(self) -> bool {
        !matches!(self, Kpi::Steps | Kpi::ContactModes)
    }

    /// What the numerator and the denominator are, in words, for a rate.
    pub fn terms(self) -> (&'static str, &'static str) {
        match self {
            Kpi::Reach => ("Families registered", "Births"),
            Kpi::Triage => ("Triaged by the due time", "Referrals due"),
            Kpi::ReReferrals => ("Re-referrals", "Referrals"),
            Kpi::Outcomes => ("Needs met", "Episodes closed"),
            Kpi::Pathway => ("Completed by the end of the window", "Children whose window closed"),
            Kpi::Asq => ("Done", "Children"),
            Kpi::Breastfeeding => ("Any breastfeeding", "Reviews with feeding recorded"),
            Kpi::Steps | Kpi::ContactModes => ("Count", ""),
        }
    }

    /// How the indicator is worked out, for the page.
    pub fn definition(self) -> &'static str {
        match self {
            Kpi::Reach => {
                "Births in the month from the live births feed (with consent to share or not), and of those families, how many the hub has registered: the welcome contact is done."
            }
            Kpi::Triage => {
                "Referrals sent to the front door whose triage fell due in the month, and how many were decided by their due time."
            }
            Kpi::ReReferrals => {
                "Referrals received in the month about a family, and how many of those families had been referred in the 12 months before."
            }
            Kpi::Outcomes => {
                "Episodes of early help closed in the month, and how many closed with the outcome 'needs met'."
            }
            Kpi::Steps => {
                "Episodes stepped up to children's social care, and stepped down to early help, in the month."
            }
            Kpi::ContactModes => "Contacts with families in the month, by how they happened.",
            Kpi::Pathway => {
                "For each stage of the tenant's pathway, the children whose window for it closed in the month, and how many had the stage completed by then (by a recorded contact or an imported one)."
            }
            Kpi::Asq => {
                "Children who turned 2½ in the month, and how many had an ASQ-3 at 24 to 30 months; of those done, how many scored below the cut-off in any area."
            }
            Kpi::Breastfeeding => {
                "6–8 week reviews in the month with the baby's feeding recorded (from the health visiting feed), and how many babies were totally or partially breastfed."
            }
        }
    }
}

/// Where a fact belongs: the hub it was recorded against, if any, and the
/// postcode sector and district it comes from, as far as they are known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Place {
    pub hub_site_id: Option<i64>,
    pub district: Option<String>,
    /// `W2 5`; may be missing when only the district was kept.
    pub sector: Option<String>,
}

impl Place {
    /// The place of a full postcode, if it is one.
    pub fn of_postcode(hub_site_id: Option<i64>, postcode: Option<&str>) -> Place {
        match postcode.and_then(|p| crate::Postcode::parse(p).ok()) {
            Some(p) => Place {
                hub_site_id,
                district: Some(p.district().to_string()),
                sector: Some(p.sector().to_string()),
            },
            None => Place {
                hub_site_id,
                ..Place::default()
            },
        }
    }

    /// Whether a reach or ward area (a district `W2` or a sector `W2 5`) covers this place.
    fn covered_by(&self, area: &str) -> bool {
        let area = area.trim().to_ascii_uppercase();
        if area.contains(' ') {
            self.sector.as_deref() == Some(area.as_str())
        } else {
            self.district.as_deref() == Some(area.as_str())
        }
    }
}

/// One thing counted by an indicator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub kpi: Kpi,
    /// The series within the indicator (a contact mode, a pathway stage…).
    pub series: String,
    pub on: Date,
    pub place: Place,
    /// Whether it adds to a rate's numerator (always true for a count).
    pub counts: bool,
}

/// How a dashboard breaks figures down by place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Geography {
    Hub,
    Ward,
    District,
}

impl Geography {
    pub const ALL: [Geography; 3] = [Geography::Hub, Geography::Ward, Geography::District];

    pub fn code(self) -> &'static str {
        match self {
            Geography::Hub => "hub",
            Geography::Ward => "ward",
            Geography::District => "district",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Geography::Hub => "Family hub",
            Geography::Ward => "Ward",
            Geography::District => "Postcode district",
        }
    }

    pub fn parse(s: &str) -> Option<Geography> {
        Geography::ALL.into_iter().find(|g| g.code() == s)
    }
}

/// A named area made of postcode districts and sectors: a hub's reach, or a ward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedArea {
    pub id: i64,
    pub name: String,
    pub areas: Vec<String>,
}

/// The tenant's hubs and wards.
#[derive(Debug, Clone, Default)]
pub struct Areas {
    pub hubs: Vec<NamedArea>,
    pub wards: Vec<NamedArea>,
}

pub const NO_PLACE: &str = "Address not known";
pub const OUTSIDE_HUBS: &str = "Outside every hub's reach";
pub const OUTSIDE_WARDS: &str = "Outside every ward";

/// The first area naming the place's sector, else the first naming its district.
fn best<'a>(place: &Place, named: &'a [NamedArea]) -> Option<&'a NamedArea> {
    let covering = |sector: bool| {
        named.iter().find(|n| {
            n.areas
                .iter()
                .any(|a| a.trim().contains(' ') == sector && place.covered_by(a))
        })
    };
    covering(true).or_else(|| covering(false))
}

/// The name of the area a place falls in.
pub fn area_of(geo: Geography, place: &Place, areas: &Areas) -> String {
    match geo {
        Geography::Hub => {
            if let Some(h) = place.hub_site_id.and_then(|id| areas.hubs.iter().find(|h| h.id == id)) {
                return h.name.clone();
            }
            if place.district.is_none() {
                return NO_PLACE.into();
            }
            best(place, &areas.hubs).map_or(OUTSIDE_HUBS.into(), |h| h.name.clone())
        }
        Geography::Ward => {
            if place.district.is_none() {
                return NO_PLACE.into();
            }
            best(place, &areas.wards).map_or(OUTSIDE_WARDS.into(), |w| w.name.clone())
        }
        Geography::District => place.district.clone().unwrap_or_else(|| NO_PLACE.into()),
    }
}

/// A ward as read from a line: its name and its districts and sectors.
pub type WardLine = (String, Vec<String>);

/// Reads a tenant's wards from text, one per line: `Ward name: W2 5, W2 6, W9`
/// (districts and sectors). Blank lines are skipped. Each problem names its line.
pub fn parse_wards(text: &str) -> Result<Vec<WardLine>, Vec<(usize, String)>> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
        if line.is_empty() {
            continue;
        }
        let Some((name, areas)) = line.split_once(':') else {
            errors.push((
                i,
                "Write the ward's name, a colon, then its postcode districts or sectors".to_string(),
            ));
            continue;
        };
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            errors.push((i, "Give the ward a name of 1 to 100 characters".to_string()));
            continue;
        }
        if out.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            errors.push((i, format!("{name} is listed twice")));
            continue;
        }
        let mut parsed = Vec::new();
        for a in areas.split(',').map(str::trim).filter(|a| !a.is_empty()) {
            match crate::postcode::parse_area(a) {
                Ok(a) if !parsed.contains(&a) => parsed.push(a),
                Ok(_) => {}
                Err(_) => errors.push((i, format!("{a} is not a postcode district (W2) or sector (W2 5)"))),
            }
        }
        if parsed.is_empty() {
            errors.push((i, format!("List at least one postcode district or sector for {name}")));
            continue;
        }
        out.push((name.to_string(), parsed));
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// A numerator and a denominator (for a count, the numerator only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub num: i64,
    pub den: i64,
}

impl Tally {
    fn add(&mut self, counts: bool) {
        self.den += 1;
        self.num += i64::from(counts);
    }

    fn plus(&mut self, other: Tally) {
        self.num += other.num;
        self.den += other.den;
    }
}

/// `2026-03`.
pub fn month_of(d: Date) -> String {
    format!("{:04}-{:02}", d.year(), u8::from(d.month()))
}

/// The `n` months ending with the one `today` is in, oldest first.
pub fn last_months(today: Date, n: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(n);
    let (mut y, mut m) = (today.year(), u8::from(today.month()));
    for _ in 0..n {
        out.push(format!("{y:04}-{m:02}"));
        if m == 1 {
            y -= 1;
            m = 12;
        } else {
            m -= 1;
        }
    }
    out.reverse();
    out
}

/// One area's figures: a tally per month, and the total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub area: String,
    pub months: Vec<Tally>,
    pub total: Tally,
}

/// One series tabulated by area and month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub series: String,
    pub months: Vec<String>,
    pub rows: Vec<Row>,
    /// All areas together, per month.
    pub all: Vec<Tally>,
    pub total: Tally,
}

/// Tabulates the facts of one indicator by area and month: one table per
/// series, in `series_order` (then any others, alphabetically). Facts outside
/// `months` are left out. Rows are in area order, the two catch-alls last.
pub fn tabulate(
    kpi: Kpi,
    facts: &[Fact],
    geo: Geography,
    areas: &Areas,
    months: &[String],
    series_order: &[&str],
) -> Vec<Table> {
    let index: BTreeMap<&str, usize> = months.iter().enumerate().map(|(i, m)| (m.as_str(), i)).collect();
    let mut by: BTreeMap<String, BTreeMap<String, Vec<Tally>>> = BTreeMap::new();
    for f in facts.iter().filter(|f| f.kpi == kpi) {
        let month = month_of(f.on);
        let Some(&i) = index.get(month.as_str()) else {
            continue;
        };
        let area = area_of(geo, &f.place, areas);
        by.entry(f.series.clone())
            .or_default()
            .entry(area)
            .or_insert_with(|| vec![Tally::default(); months.len()])[i]
            .add(f.counts);
    }
    let mut names: Vec<String> = series_order
        .iter()
        .filter(|s| by.contains_key(**s))
        .map(|s| s.to_string())
        .collect();
    names.extend(by.keys().filter(|k| !series_order.contains(&k.as_str())).cloned());
    let last = |a: &str| matches!(a, NO_PLACE | OUTSIDE_HUBS | OUTSIDE_WARDS);
    names
        .into_iter()
        .map(|series| {
            let areas_of = by.remove(&series).unwrap_or_default();
            let mut rows: Vec<Row> = areas_of
                .into_iter()
                .map(|(area, cells)| {
                    let mut total = Tally::default();
                    cells.iter().for_each(|c| total.plus(*c));
                    Row {
                        area,
                        months: cells,
                        total,
                    }
                })
                .collect();
            rows.sort_by(|a, b| (last(&a.area), &a.area).cmp(&(last(&b.area), &b.area)));
            let mut all = vec![Tally::default(); months.len()];
            let mut total = Tally::default();
            for r in &rows {
                for (a, c) in all.iter_mut().zip(&r.months) {
                    a.plus(*c);
                }
                total.plus(r.total);
            }
            Table {
                series,
                months: months.to_vec(),
                rows,
                all,
                total,
            }
        })
        .collect()
}

/// A child as the pathway and ASQ indicators see them.
#[derive(Debug, Clone)]
pub struct Child {
    pub born: Date,
    pub place: Place,
    /// Completed pathway stages: (stage code, completed on).
    pub completed: Vec<(String, Date)>,
    /// ASQ-3 questionnaires: (completed on, interval in months, any area below the cut-off).
    pub asq3: Vec<(Date, u8, bool)>,
}

/// The pathway facts of a child: for each postnatal stage whose window has
/// closed by `today`, one fact dated the day it closed, counting when the
/// stage was completed by then. (Antenatal stages hang on the expected date
/// of delivery, which a born child's record may no longer hold; they are left
/// out rather than guessed.)
pub fn pathway_facts(model: PathwayModel, child: &Child, today: Date) -> Vec<Fact> {
    model
        .stages()
        .iter()
        .filter(|s: &&Stage| s.anchor == crate::pathway::Anchor::Birth)
        .filter_map(|s| {
            let closes = s.closes.from(child.born);
            (closes <= today).then(|| Fact {
                kpi: Kpi::Pathway,
                series: s.code.to_string(),
                on: closes,
                place: child.place.clone(),
                counts: child.completed.iter().any(|(code, on)| code == s.code && *on <= closes),
            })
        })
        .collect()
}

/// The ASQ-3 facts of a child who has turned 2½ by `today`: "done" (an ASQ-3
/// at 24 to 30 months), and, when done, "below cut-off" (any area below the
/// tenant's cut-off on the latest one).
pub fn asq_facts(child: &Child, today: Date) -> Vec<Fact> {
    let turned = crate::pathway::add_months(child.born, 30);
    if turned > today {
        return Vec::new();
    }
    let at_two = child
        .asq3
        .iter()
        .filter(|(on, interval, _)| (24..=30).contains(interval) && (24..=31).contains(&age_in_months(child.born, *on)))
        .max_by_key(|(on, _, _)| *on);
    let mut out = vec![Fact {
        kpi: Kpi::Asq,
        series: "done".into(),
        on: turned,
        place: child.place.clone(),
        counts: at_two.is_some(),
    }];
    if let Some((_, _, below)) = at_two {
        out.push(Fact {
            kpi: Kpi::Asq,
            series: "below_cutoff".into(),
            on: turned,
            place: child.place.clone(),
            counts: *below,
        });
    }
    out
}

/// What a series is called on the page.
pub fn series_label(kpi: Kpi, series: &str, model: PathwayModel) -> String {
    match (kpi, series) {
        (Kpi::Pathway, s) => model.stage(s).map_or(s.to_string(), |st| st.label.to_string()),
        (Kpi::Asq, "done") => "ASQ-3 done at 2 to 2½".into(),
        (Kpi::Asq, "below_cutoff") => "Below the cut-off in any area (of those done)".into(),
        (Kpi::Steps, "stepped_up") => "Stepped up".into(),
        (Kpi::Steps, "stepped_down") => "Stepped down".into(),
        (Kpi::ContactModes, m) => crate::model::ContactMode::parse(m).map_or(m.to_string(), |c| c.label().to_string()),
        (_, s) if s == kpi.code() => kpi.terms().0.to_string(),
        (_, s) => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn place(hub: Option<i64>, pc: &str) -> Place {
        Place::of_postcode(hub, Some(pc))
    }

    fn areas() -> Areas {
        Areas {
            hubs: vec![
                NamedArea {
                    id: 1,
                    name: "North hub".into(),
                    areas: vec!["W9".into(), "W2 5".into()],
                },
                NamedArea {
                    id: 2,
                    name: "South hub".into(),
                    areas: vec!["W2".into()],
                },
            ],
            wards: vec![NamedArea {
                id: 1,
                name: "Westbourne".into(),
                areas: vec!["W2 5".into(), "W2 6".into()],
            }],
        }
    }

    #[test]
    fn places_fall_in_the_best_covering_area() {
        let a = areas();
        assert_eq!(area_of(Geography::Hub, &place(None, "W2 5AB"), &a), "North hub");
        assert_eq!(area_of(Geography::Hub, &place(None, "W2 1AB"), &a), "South hub");
        assert_eq!(area_of(Geography::Hub, &place(Some(2), "W9 1AB"), &a), "South hub");
        assert_eq!(area_of(Geography::Hub, &place(None, "SW1A 1AA"), &a), OUTSIDE_HUBS);
        assert_eq!(area_of(Geography::Hub, &Place::default(), &a), NO_PLACE);
        assert_eq!(area_of(Geography::Ward, &place(None, "W2 6XY"), &a), "Westbourne");
        assert_eq!(area_of(Geography::Ward, &place(None, "W2 1XY"), &a), OUTSIDE_WARDS);
        assert_eq!(area_of(Geography::District, &place(None, "W2 1XY"), &a), "W2");
        // A record kept only to its district is placed by district.
        let district_only = Place {
            hub_site_id: None,
            district: Some("W9".into()),
            sector: None,
        };
        assert_eq!(area_of(Geography::Hub, &district_only, &a), "North hub");
    }

    #[test]
    fn tabulating_adds_up_by_area_and_month() {
        let a = areas();
        let months = vec!["2026-01".to_string(), "2026-02".to_string()];
        let f = |on: Date, pc: &str, counts: bool| Fact {
            kpi: Kpi::Triage,
            series: "triage".into(),
            on,
            place: place(None, pc),
            counts,
        };
        let facts = vec![
            f(date!(2026 - 01 - 03), "W9 1AA", true),
            f(date!(2026 - 01 - 20), "W9 2AA", false),
            f(date!(2026 - 02 - 01), "W2 1AA", true),
            f(date!(2026 - 03 - 01), "W2 1AA", true), // outside the months
            f(date!(2026 - 02 - 11), "SW1A 1AA", true),
        ];
        let t = tabulate(Kpi::Triage, &facts, Geography::Hub, &a, &months, &[]);
        assert_eq!(t.len(), 1);
        let t = &t[0];
        let names: Vec<&str> = t.rows.iter().map(|r| r.area.as_str()).collect();
        assert_eq!(names, ["North hub", "South hub", OUTSIDE_HUBS]);
        assert_eq!(t.rows[0].months, vec![Tally { num: 1, den: 2 }, Tally::default()]);
        assert_eq!(t.rows[0].total, Tally { num: 1, den: 2 });
        assert_eq!(t.all, vec![Tally { num: 1, den: 2 }, Tally { num: 2, den: 2 }]);
        assert_eq!(t.total, Tally { num: 3, den: 4 });
    }

    #[test]
    fn pathway_counts_a_stage_once_its_window_has_closed() {
        let child = Child {
            born: date!(2025 - 01 - 10),
            place: Place::default(),
            completed: vec![("new_birth".into(), date!(2025 - 01 - 22))],
            asq3: vec![],
        };
        let facts = pathway_facts(PathwayModel::HealthyChildProgramme, &child, date!(2025 - 03 - 31));
        let nb = facts.iter().find(|f| f.series == "new_birth").expect("new birth visit");
        assert!(nb.counts);
        let six = facts
            .iter()
            .find(|f| f.series == "six_eight_weeks")
            .expect("6–8 weeks closed");
        assert!(!six.counts);
        assert!(facts.iter().all(|f| f.series != "nine_twelve_months"));
    }

    #[test]
    fn asq_counts_children_who_turned_two_and_a_half() {
        let mut child = Child {
            born: date!(2023 - 06 - 01),
            place: Place::default(),
            completed: vec![],
            asq3: vec![(date!(2025 - 07 - 01), 24, true)],
        };
        assert!(asq_facts(&child, date!(2025 - 11 - 30)).is_empty());
        let facts = asq_facts(&child, date!(2025 - 12 - 01));
        assert_eq!(facts.len(), 2);
        assert!(facts.iter().all(|f| f.counts && f.on == date!(2025 - 12 - 01)));
        child.asq3 = vec![(date!(2024 - 06 - 01), 12, false)];
        let facts = asq_facts(&child, date!(2026 - 01 - 01));
        assert_eq!(facts.len(), 1);
        assert!(!facts[0].counts);
    }

    #[test]
    fn wards_are_read_line_by_line_with_each_problem_named() {
        let wards = parse_wards("Westbourne: w2 5, W2  6\n\nMaida Vale: W9\n").unwrap();
        assert_eq!(
            wards,
            vec![
                ("Westbourne".to_string(), vec!["W2 5".to_string(), "W2 6".to_string()]),
                ("Maida Vale".to_string(), vec!["W9".to_string()]),
            ]
        );
        let errors = parse_wards("Westbourne: W2 5\nNo colon here\nBayswater: W2 55\nwestbourne: W2").unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.0).collect();
        assert_eq!(lines, [2, 3, 3, 4]);
        assert!(errors[1].1.contains("W2 55"));
    }

    #[test]
    fn the_last_months_run_oldest_first_across_a_year_end() {
        assert_eq!(last_months(date!(2026 - 02 - 15), 3), ["2025-12", "2026-01", "2026-02"]);
    }
}
