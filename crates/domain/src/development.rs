//! Child development (F6): the Ages and Stages Questionnaires (ASQ-3 and
//! ASQ:SE), the integrated review at two, and the common early help
//! assessment's vocabulary.
//!
//! Kindred ships **no** published cut-off tables: each local authority sets
//! its own cut-off and monitoring zone per questionnaire interval and area.
//! Where a tenant has none for an interval, a result is shown without a
//! classification — one is never invented.

/// The questionnaire an answer sheet belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Instrument {
    /// ASQ-3: five areas of development, each scored 0–60.
    Asq3,
    /// ASQ:SE (social-emotional): one total, where higher means more concern.
    AsqSe,
}

impl Instrument {
    pub const ALL: &'static [Instrument] = &[Instrument::Asq3, Instrument::AsqSe];

    pub fn code(self) -> &'static str {
        match self {
            Instrument::Asq3 => "asq3",
            Instrument::AsqSe => "asqse",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Instrument::Asq3 => "ASQ-3",
            Instrument::AsqSe => "ASQ:SE",
        }
    }

    pub fn parse(s: &str) -> Option<Instrument> {
        Instrument::ALL.iter().copied().find(|i| i.code() == s)
    }

    /// The questionnaire intervals, in months of age.
    pub fn intervals(self) -> &'static [u8] {
        match self {
            Instrument::Asq3 => ASQ3_INTERVALS,
            Instrument::AsqSe => ASQSE_INTERVALS,
        }
    }
}

/// The ASQ-3 questionnaire intervals, in months.
pub const ASQ3_INTERVALS: &[u8] = &[
    2, 4, 6, 8, 9, 10, 12, 14, 16, 18, 20, 22, 24, 27, 30, 33, 36, 42, 48, 54, 60,
];

/// The ASQ:SE questionnaire intervals, in months.
pub const ASQSE_INTERVALS: &[u8] = &[2, 6, 12, 18, 24, 30, 36, 48, 60];

/// The intervals of the health visitor's check at 2–2½ years.
pub const REVIEW_INTERVALS: &[u8] = &[24, 27, 30];

/// Parses an interval of `instrument` ("24" → 24).
pub fn parse_interval(instrument: Instrument, s: &str) -> Option<u8> {
    let n: u8 = s.trim().parse().ok()?;
    instrument.intervals().contains(&n).then_some(n)
}

/// The latest interval a child of `months` can be given (none under 2 months).
pub fn suggested_interval(instrument: Instrument, months: i32) -> Option<u8> {
    instrument
        .intervals()
        .iter()
        .copied()
        .rev()
        .find(|i| i32::from(*i) <= months)
}

/// Whether a child of `months` (chronological age) can have answered the
/// questionnaire of `interval`: not one for an older child than they were,
/// give or take the month either side that the questionnaires allow. Younger
/// intervals are allowed (a premature baby's corrected age is lower).
pub fn interval_fits(interval: u8, months: i32) -> bool {
    i32::from(interval) <= months + 1
}

/// Whole months between a date of birth and `on`.
pub fn age_in_months(born: time::Date, on: time::Date) -> i32 {
    let mut m = (on.year() - born.year()) * 12 + (on.month() as i32 - born.month() as i32);
    if on.day() < born.day() {
        m -= 1;
    }
    m
}

/// The five areas of the ASQ-3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Area {
    Communication,
    GrossMotor,
    FineMotor,
    ProblemSolving,
    PersonalSocial,
}

impl Area {
    pub const ALL: &'static [Area] = &[
        Area::Communication,
        Area::GrossMotor,
        Area::FineMotor,
        Area::ProblemSolving,
        Area::PersonalSocial,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Area::Communication => "communication",
            Area::GrossMotor => "gross_motor",
            Area::FineMotor => "fine_motor",
            Area::ProblemSolving => "problem_solving",
            Area::PersonalSocial => "personal_social",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Area::Communication => "Communication",
            Area::GrossMotor => "Gross motor",
            Area::FineMotor => "Fine motor",
            Area::ProblemSolving => "Problem solving",
            Area::PersonalSocial => "Personal-social",
        }
    }

    pub fn parse(s: &str) -> Option<Area> {
        Area::ALL.iter().copied().find(|a| a.code() == s)
    }
}

/// The area code under which an ASQ:SE total (and its cut-off) is kept.
pub const SE_TOTAL: &str = "total";

/// The highest ASQ:SE total Kindred accepts (the longest questionnaire's
/// items, each scored 0, 5 or 10, with 5 more for a parent's concern).
pub const SE_MAX: u16 = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ScoreError {
    #[error("is missing")]
    Missing,
    #[error("must be a whole number")]
    NotANumber,
    #[error("is out of range")]
    OutOfRange,
    #[error("must be a multiple of 5")]
    NotMultipleOfFive,
}

/// An ASQ-3 area score: six items answered yes (10), sometimes (5) or not yet
/// (0), so 0 to 60 in steps of 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct AreaScore(u8);

impl AreaScore {
    pub fn parse(s: &str) -> Result<AreaScore, ScoreError> {
        let n = parse_steps(s, 60)?;
        Ok(AreaScore(n as u8))
    }

    /// From the six item answers (10, 5 or 0 each).
    pub fn from_items(items: [ItemAnswer; 6]) -> AreaScore {
        AreaScore(items.iter().map(|i| i.points()).sum())
    }

    pub fn value(self) -> u8 {
        self.0
    }
}

/// An ASQ:SE total: 0 to [`SE_MAX`] in steps of 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SeTotal(u16);

impl SeTotal {
    pub fn parse(s: &str) -> Result<SeTotal, ScoreError> {
        Ok(SeTotal(parse_steps(s, SE_MAX)?))
    }
    pub fn value(self) -> u16 {
        self.0
    }
}

fn parse_steps(s: &str, max: u16) -> Result<u16, ScoreError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(ScoreError::Missing);
    }
    if !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(
            if t.starts_with('-') && t[1..].bytes().all(|b| b.is_ascii_digit()) && t.len() > 1 {
                ScoreError::OutOfRange
            } else {
                ScoreError::NotANumber
            },
        );
    }
    let n: u32 = t.parse().map_err(|_| ScoreError::OutOfRange)?;
    if n > u32::from(max) {
        return Err(ScoreError::OutOfRange);
    }
    if !n.is_multiple_of(5) {
        return Err(ScoreError::NotMultipleOfFive);
    }
    Ok(n as u16)
}

/// One ASQ-3 item's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemAnswer {
    Yes,
    Sometimes,
    NotYet,
}

impl ItemAnswer {
    pub fn points(self) -> u8 {
        match self {
            ItemAnswer::Yes => 10,
            ItemAnswer::Sometimes => 5,
            ItemAnswer::NotYet => 0,
        }
    }
}

/// A tenant's cut-off for one interval and area, in hundredths of a point (so
/// a council can enter a cut-off such as 22.5).
///
/// ASQ-3 (higher is better): a score under `cutoff` is below the cut-off; from
/// `cutoff` up to under `monitoring` it is close to the cut-off (the
/// monitoring zone); from `monitoring` it is above. So `cutoff ≤ monitoring`.
///
/// ASQ:SE (higher is more concern): a total over `cutoff` is above the
/// cut-off; over `monitoring` (and up to the cut-off) it is in the monitoring
/// zone; otherwise below. So `monitoring ≤ cutoff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoff {
    pub cutoff: u32,
    pub monitoring: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CutoffError {
    #[error("must be a number, like 25 or 22.5")]
    NotANumber,
    #[error("is out of range")]
    OutOfRange,
    #[error("monitoring zone is on the wrong side of the cut-off")]
    Order,
}

impl Cutoff {
    /// Checks the pair for `instrument`: both within the score range, and the
    /// monitoring zone on the right side of the cut-off.
    pub fn new(instrument: Instrument, cutoff: u32, monitoring: u32) -> Result<Cutoff, CutoffError> {
        let max = max_centi(instrument);
        if cutoff > max || monitoring > max {
            return Err(CutoffError::OutOfRange);
        }
        let ordered = match instrument {
            Instrument::Asq3 => cutoff <= monitoring,
            Instrument::AsqSe => monitoring <= cutoff,
        };
        if !ordered {
            return Err(CutoffError::Order);
        }
        Ok(Cutoff { cutoff, monitoring })
    }
}

fn max_centi(instrument: Instrument) -> u32 {
    match instrument {
        Instrument::Asq3 => 6000,
        Instrument::AsqSe => u32::from(SE_MAX) * 100,
    }
}

/// "22.5" → 2250; at most two decimal places.
pub fn parse_points(s: &str) -> Result<u32, CutoffError> {
    let t = s.trim();
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 2 || (t.contains('.') && frac.is_empty()) {
        return Err(CutoffError::NotANumber);
    }
    let w: u32 = whole.parse().map_err(|_| CutoffError::OutOfRange)?;
    let f: u32 = format!("{frac:0<2}").parse().unwrap_or(0);
    w.checked_mul(100)
        .and_then(|w| w.checked_add(f))
        .ok_or(CutoffError::OutOfRange)
}

/// 2250 → "22.5"; 2500 → "25".
pub fn show_points(centi: u32) -> String {
    let (w, f) = (centi / 100, centi % 100);
    match f {
        0 => w.to_string(),
        f if f.is_multiple_of(10) => format!("{w}.{}", f / 10),
        f => format!("{w}.{f:02}"),
    }
}

/// Where a score falls against a tenant's cut-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Zone {
    Below,
    Close,
    Above,
}

impl Zone {
    pub fn label(self) -> &'static str {
        match self {
            Zone::Above => "Above cut-off",
            Zone::Close => "Close to cut-off",
            Zone::Below => "Below cut-off",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Zone::Above => "above",
            Zone::Close => "close",
            Zone::Below => "below",
        }
    }

    /// Whether this zone calls for a conversation about further assessment.
    pub fn concern(self, instrument: Instrument) -> bool {
        match instrument {
            Instrument::Asq3 => self == Zone::Below,
            Instrument::AsqSe => self == Zone::Above,
        }
    }
}

/// Classifies a score (in points) against the tenant's cut-off. No cut-off
/// configured: no classification.
pub fn classify(instrument: Instrument, score: u16, cut: Option<Cutoff>) -> Option<Zone> {
    let c = cut?;
    let s = u32::from(score) * 100;
    Some(match instrument {
        Instrument::Asq3 if s < c.cutoff => Zone::Below,
        Instrument::Asq3 if s < c.monitoring => Zone::Close,
        Instrument::Asq3 => Zone::Above,
        Instrument::AsqSe if s > c.cutoff => Zone::Above,
        Instrument::AsqSe if s > c.monitoring => Zone::Close,
        Instrument::AsqSe => Zone::Below,
    })
}

/// The EYFS progress check's prime areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrimeArea {
    CommunicationLanguage,
    Physical,
    PersonalSocialEmotional,
}

impl PrimeArea {
    pub const ALL: &'static [PrimeArea] = &[
        PrimeArea::CommunicationLanguage,
        PrimeArea::Physical,
        PrimeArea::PersonalSocialEmotional,
    ];

    pub fn code(self) -> &'static str {
        match self {
            PrimeArea::CommunicationLanguage => "eyfs_communication",
            PrimeArea::Physical => "eyfs_physical",
            PrimeArea::PersonalSocialEmotional => "eyfs_psed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PrimeArea::CommunicationLanguage => "Communication and language",
            PrimeArea::Physical => "Physical development",
            PrimeArea::PersonalSocialEmotional => "Personal, social and emotional development",
        }
    }
}

/// How a child is doing in a prime area at the progress check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    OnTrack,
    SomeConcerns,
    NotOnTrack,
}

impl Progress {
    pub const ALL: &'static [Progress] = &[Progress::OnTrack, Progress::SomeConcerns, Progress::NotOnTrack];

    pub fn code(self) -> &'static str {
        match self {
            Progress::OnTrack => "on_track",
            Progress::SomeConcerns => "some_concerns",
            Progress::NotOnTrack => "not_on_track",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Progress::OnTrack => "On track",
            Progress::SomeConcerns => "Some concerns",
            Progress::NotOnTrack => "Not on track",
        }
    }

    pub fn parse(s: &str) -> Option<Progress> {
        Progress::ALL.iter().copied().find(|p| p.code() == s)
    }
}

/// Weight in grams from kilograms as typed ("12.4"), 1–40 kg.
pub fn parse_weight_grams(s: &str) -> Option<u32> {
    let g = parse_points(s).ok()? * 10;
    (1_000..=40_000).contains(&g).then_some(g)
}

/// Height in millimetres from centimetres as typed ("86.5"), 40–150 cm.
pub fn parse_height_mm(s: &str) -> Option<u32> {
    let centi = parse_points(s).ok()?;
    if !centi.is_multiple_of(10) {
        return None;
    }
    let mm = centi / 10;
    (400..=1_500).contains(&mm).then_some(mm)
}

/// The sections of the common early help assessment, in order: the three
/// domains of the Assessment Framework triangle between the reason and the
/// views, then strengths, needs and the analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section {
    pub code: &'static str,
    pub heading: &'static str,
    pub hint: &'static str,
}

pub const EARLY_HELP_SECTIONS: &[Section] = &[
    Section {
        code: "reason",
        heading: "Reason for the assessment",
        hint: "What prompted it, and who asked for it.",
    },
    Section {
        code: "child_development",
        heading: "The child's developmental needs",
        hint: "Health, learning, emotional and behavioural development, identity, relationships, self-care.",
    },
    Section {
        code: "parenting_capacity",
        heading: "Parenting capacity",
        hint: "Basic care, safety, warmth, stimulation, guidance and boundaries, stability.",
    },
    Section {
        code: "family_environment",
        heading: "Family and environmental factors",
        hint: "Family history and functioning, wider family, housing, work and income, community.",
    },
    Section {
        code: "child_views",
        heading: "The views of the child",
        hint: "In their words, or how they were observed if they are too young to say.",
    },
    Section {
        code: "family_views",
        heading: "The views of the family",
        hint: "In their words.",
    },
    Section {
        code: "strengths",
        heading: "Strengths",
        hint: "What is going well and who helps.",
    },
    Section {
        code: "needs",
        heading: "Needs identified",
        hint: "",
    },
    Section {
        code: "analysis",
        heading: "Analysis and summary",
        hint: "What the information means for the child and family, and why the outcome below.",
    },
];

/// The recommended outcome of an early help assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EarlyHelpOutcome {
    SingleAgency,
    TeamAroundFamily,
    StepUp,
    NoFurtherAction,
}

impl EarlyHelpOutcome {
    pub const ALL: &'static [EarlyHelpOutcome] = &[
        EarlyHelpOutcome::SingleAgency,
        EarlyHelpOutcome::TeamAroundFamily,
        EarlyHelpOutcome::StepUp,
        EarlyHelpOutcome::NoFurtherAction,
    ];

    pub fn code(self) -> &'static str {
        match self {
            EarlyHelpOutcome::SingleAgency => "single_agency",
            EarlyHelpOutcome::TeamAroundFamily => "team_around_family",
            EarlyHelpOutcome::StepUp => "step_up",
            EarlyHelpOutcome::NoFurtherAction => "no_further_action",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            EarlyHelpOutcome::SingleAgency => "Single-agency support",
            EarlyHelpOutcome::TeamAroundFamily => "Team around the family and an early help plan",
            EarlyHelpOutcome::StepUp => "Step up to children's social care",
            EarlyHelpOutcome::NoFurtherAction => "No further action",
        }
    }

    pub fn parse(s: &str) -> Option<EarlyHelpOutcome> {
        EarlyHelpOutcome::ALL.iter().copied().find(|o| o.code() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn answer() -> impl Strategy<Value = ItemAnswer> {
        prop_oneof![
            Just(ItemAnswer::Yes),
            Just(ItemAnswer::Sometimes),
            Just(ItemAnswer::NotYet)
        ]
    }

    fn instrument() -> impl Strategy<Value = Instrument> {
        prop_oneof![Just(Instrument::Asq3), Just(Instrument::AsqSe)]
    }

    proptest! {
        /// Only 0 to 60 in steps of 5 are area scores.
        #[test]
        fn area_scores_are_0_to_60_in_fives(s in "-?[0-9]{0,3}|.{0,4}") {
            let t = s.trim();
            let digits = !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
            let expected = t.parse::<u32>().ok().filter(|n| digits && *n <= 60 && n.is_multiple_of(5));
            prop_assert_eq!(AreaScore::parse(&s).ok().map(|a| u32::from(a.value())), expected);
        }

        /// Six answers always make a valid area score.
        #[test]
        fn six_answers_make_a_score(items in proptest::array::uniform6(answer())) {
            let a = AreaScore::from_items(items);
            prop_assert!(a.value() <= 60 && a.value().is_multiple_of(5));
            prop_assert_eq!(AreaScore::parse(&a.value().to_string()), Ok(a));
        }

        /// A higher score never lands in a worse zone (ASQ-3: higher is better;
        /// ASQ:SE: higher is more concern, so the zone never falls).
        #[test]
        fn classification_is_monotonic(
            inst in instrument(),
            a in 0u16..=500, b in 0u16..=500,
            c in 0u32..=50_000, m in 0u32..=50_000,
        ) {
            let (lo, hi) = (a.min(b), a.max(b));
            let (c, m) = match inst { Instrument::Asq3 => (c.min(m), c.max(m)), Instrument::AsqSe => (c.max(m), c.min(m)) };
            let cut = Cutoff::new(inst, c.min(max_centi(inst)), m.min(max_centi(inst)));
            if let Ok(cut) = cut {
                let z_lo = classify(inst, lo, Some(cut)).unwrap();
                let z_hi = classify(inst, hi, Some(cut)).unwrap();
                prop_assert!(z_lo <= z_hi);
                // And at the same score a higher cut-off never gives a better ASQ-3 zone.
                if inst == Instrument::Asq3 {
                    let higher = Cutoff { cutoff: (cut.cutoff + 500).min(cut.monitoring), monitoring: cut.monitoring };
                    prop_assert!(classify(inst, lo, Some(higher)).unwrap() <= z_lo);
                }
            }
        }

        /// Without a cut-off nothing is classified.
        #[test]
        fn missing_cutoffs_never_classify(inst in instrument(), s in 0u16..=500) {
            prop_assert_eq!(classify(inst, s, None), None);
        }

        /// Points round-trip through their text.
        #[test]
        fn points_round_trip(centi in 0u32..=50_000) {
            prop_assert_eq!(parse_points(&show_points(centi)), Ok(centi));
        }
    }

    #[test]
    fn examples() {
        assert_eq!(AreaScore::parse("65"), Err(ScoreError::OutOfRange));
        assert_eq!(AreaScore::parse("7"), Err(ScoreError::NotMultipleOfFive));
        assert_eq!(AreaScore::parse(""), Err(ScoreError::Missing));
        assert_eq!(AreaScore::parse("ten"), Err(ScoreError::NotANumber));
        assert_eq!(AreaScore::parse("-5"), Err(ScoreError::OutOfRange));
        assert_eq!(AreaScore::parse(" 45 ").map(AreaScore::value), Ok(45));
        assert_eq!(SeTotal::parse("505"), Err(ScoreError::OutOfRange));
        assert_eq!(parse_points("22.5"), Ok(2250));
        assert_eq!(parse_points("22."), Err(CutoffError::NotANumber));
        assert_eq!(show_points(2250), "22.5");
        assert_eq!(show_points(2277), "22.77");
        let cut = Cutoff::new(Instrument::Asq3, 2250, 3000).unwrap();
        assert_eq!(classify(Instrument::Asq3, 20, Some(cut)), Some(Zone::Below));
        assert_eq!(classify(Instrument::Asq3, 25, Some(cut)), Some(Zone::Close));
        assert_eq!(classify(Instrument::Asq3, 30, Some(cut)), Some(Zone::Above));
        assert_eq!(Cutoff::new(Instrument::Asq3, 3000, 2000), Err(CutoffError::Order));
        let se = Cutoff::new(Instrument::AsqSe, 6000, 4500).unwrap();
        assert_eq!(classify(Instrument::AsqSe, 65, Some(se)), Some(Zone::Above));
        assert_eq!(classify(Instrument::AsqSe, 50, Some(se)), Some(Zone::Close));
        assert_eq!(classify(Instrument::AsqSe, 45, Some(se)), Some(Zone::Below));
        assert!(Zone::Above.concern(Instrument::AsqSe) && Zone::Below.concern(Instrument::Asq3));
        assert_eq!(parse_interval(Instrument::Asq3, "27"), Some(27));
        assert_eq!(parse_interval(Instrument::Asq3, "25"), None);
        assert_eq!(suggested_interval(Instrument::Asq3, 26), Some(24));
        assert_eq!(suggested_interval(Instrument::Asq3, 1), None);
        assert!(interval_fits(24, 23) && interval_fits(24, 40) && !interval_fits(36, 24));
        let d = |y, m, day| time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), day).unwrap();
        assert_eq!(age_in_months(d(2024, 3, 15), d(2026, 3, 14)), 23);
        assert_eq!(age_in_months(d(2024, 3, 15), d(2026, 3, 15)), 24);
        assert_eq!(parse_weight_grams("12.4"), Some(12_400));
        assert_eq!(parse_height_mm("86.5"), Some(865));
        assert_eq!(parse_height_mm("86.55"), None);
    }
}
