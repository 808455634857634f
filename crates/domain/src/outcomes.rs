//! The outcomes framework (F15): what "need" and "outcome achieved" look like
//! for each of the ten Supporting Families headline outcomes, as each local
//! authority words them; a family's needs register, each need's result at
//! closure (with its evidence) and whether an achieved outcome was sustained
//! six months on; and the soft outcomes, distance travelled on the family's
//! own scaling scores.
//!
//! Pages and the store ask these rules: an episode closes only when every
//! open need in its register has a result with evidence ([`closure_errors`]);
//! the sustainment check falls due six calendar months after closure
//! ([`sustainment_due`]).

use time::Date;

use crate::model::code_enum;
use crate::pathway::add_months;
use crate::referral::HeadlineOutcome;

code_enum!(
    /// What became of a need when its work ended.
    NeedResult {
        Achieved = "achieved": "Outcome achieved",
        Progress = "progress": "Progress made",
        NotAchieved = "not_achieved": "Not achieved",
    }
);

code_enum!(
    /// Whether an achieved outcome held six months after closure.
    Sustained {
        Yes = "sustained": "Sustained",
        No = "not_sustained": "Not sustained",
    }
);

impl Sustained {
    pub fn as_bool(self) -> bool {
        self == Sustained::Yes
    }

    pub fn from_bool(b: bool) -> Sustained {
        if b { Sustained::Yes } else { Sustained::No }
    }
}

/// One headline outcome's descriptors, as Kindred words them by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Descriptors {
    /// What need looks like: when a family has a need under this outcome.
    pub need: &'static str,
    /// What achieving the outcome looks like.
    pub achieved: &'static str,
}

/// Kindred's default descriptors for each headline outcome.
pub fn default_descriptors(o: HeadlineOutcome) -> Descriptors {
    match o {
        HeadlineOutcome::Education => Descriptors {
            need: "A child's attendance is below 90%, they have been excluded or are at risk of it, \
                   are missing from education, or their special educational needs are not being met.",
            achieved: "Sustained good attendance (90% or more over three school terms), no further \
                       exclusions, and the child's special educational needs met by a plan in place.",
        },
        HeadlineOutcome::EarlyYears => Descriptors {
            need: "A young child is not reaching expected milestones (for example an ASQ-3 score in the \
                   monitoring zone or below the cut-off), has speech and language delay, or a parent \
                   needs support to care for a baby or young child.",
            achieved: "The child is reaching expected milestones or is supported by the right service, \
                       takes up early education, and the parent is confident in meeting their needs.",
        },
        HeadlineOutcome::Health => Descriptors {
            need: "A parent or child has a mental or physical health problem that affects family life, \
                   and is not getting the treatment or support they need.",
            achieved: "The person is engaged with the right health service, and their health is stable or \
                       improving by their own account and their clinician's.",
        },
        HeadlineOutcome::Substances => Descriptors {
            need: "A parent's or young person's use of alcohol or drugs is harming them or the family.",
            achieved: "The person has engaged with treatment or recovery support, and their use has \
                       stopped or reduced so that it no longer harms the family.",
        },
        HeadlineOutcome::Relationships => Descriptors {
            need: "Parental conflict, a child's behaviour at home, or caring responsibilities are harming \
                   the children's wellbeing or putting the family under strain.",
            achieved: "Conflict is reduced and managed without harm to the children, behaviour at home has \
                       improved, and a young carer's caring is reduced and supported.",
        },
        HeadlineOutcome::Safeguarding => Descriptors {
            need: "A child is at risk of abuse, neglect or exploitation, goes missing, or there is concern \
                   about the care they receive.",
            achieved: "The child is no longer at risk in the professionals' shared judgement, has not gone \
                       missing, and needs no statutory intervention.",
        },
        HeadlineOutcome::Crime => Descriptors {
            need: "A family member has offended or is involved in anti-social behaviour, or a young person \
                   is at risk of it.",
            achieved: "No further offending or anti-social behaviour over at least six months, and the \
                       person is in positive activity.",
        },
        HeadlineOutcome::DomesticAbuse => Descriptors {
            need: "A family member is experiencing or has experienced domestic abuse, or is using abusive \
                   behaviour.",
            achieved: "The victim and children are safe, with a safety plan in place and no further \
                       incidents; the person who harmed has engaged with a behaviour change programme.",
        },
        HeadlineOutcome::Housing => Descriptors {
            need: "The family is homeless or at risk of it, in rent arrears with a notice, or lives in \
                   overcrowded or unsuitable housing.",
            achieved: "The family has a settled home that meets its needs, with the tenancy maintained and \
                       no risk of eviction.",
        },
        HeadlineOutcome::Finance => Descriptors {
            need: "The family has problem debt, cannot meet its essential costs, or an adult is out of work \
                   and wants work.",
            achieved: "Debts are managed with a repayment plan, the family receives the income it is \
                       entitled to, and an adult has moved into work, training or volunteering.",
        },
    }
}

/// A headline outcome as a local authority has it: Kindred's ten reworded or
/// retired, and its own. A retired outcome is not offered for new needs;
/// needs already recorded under it keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameworkOutcome {
    pub code: String,
    pub title: String,
    pub need: String,
    pub achieved: String,
    /// Offered for new needs (not retired).
    pub offered: bool,
}

impl FrameworkOutcome {
    /// One of Kindred's ten, rather than the tenant's own.
    pub fn is_default(&self) -> bool {
        HeadlineOutcome::ALL.iter().any(|o| o.code() == self.code)
    }
}

/// The longest title an outcome may have.
pub const MAX_TITLE: usize = 100;
/// The longest descriptor.
pub const MAX_DESCRIPTOR: usize = 600;
/// The longest need description or evidence.
pub const MAX_TEXT: usize = 2000;

/// Kindred's framework: the ten headline outcomes, each with its descriptors.
pub fn default_framework() -> Vec<FrameworkOutcome> {
    HeadlineOutcome::ALL
        .iter()
        .map(|o| {
            let d = default_descriptors(*o);
            FrameworkOutcome {
                code: o.code().into(),
                title: o.label().into(),
                need: d.need.into(),
                achieved: d.achieved.into(),
                offered: true,
            }
        })
        .collect()
}

/// A tenant's framework: every default outcome in its place (as the tenant
/// reworded or retired it, if it did; its title is always the national one),
/// then the tenant's own, in their order.
pub fn tenant_framework(saved: &[FrameworkOutcome]) -> Vec<FrameworkOutcome> {
    let mut out: Vec<FrameworkOutcome> = default_framework()
        .into_iter()
        .map(|d| match saved.iter().find(|s| s.code == d.code) {
            Some(s) => FrameworkOutcome {
                title: d.title,
                ..s.clone()
            },
            None => d,
        })
        .collect();
    for s in saved {
        if !out.iter().any(|o| o.code == s.code) {
            out.push(s.clone());
        }
    }
    out
}

/// The code of a tenant's next outcome of its own: `own_1`, `own_2`, …
pub fn next_own_code(framework: &[FrameworkOutcome]) -> String {
    (1..)
        .map(|n| format!("own_{n}"))
        .find(|c| !framework.iter().any(|o| &o.code == c))
        .unwrap_or_default()
}

/// The outcomes offered for a new need.
pub fn offered(framework: &[FrameworkOutcome]) -> Vec<&FrameworkOutcome> {
    framework.iter().filter(|o| o.offered).collect()
}

/// A problem with a form field: which field, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// What is wrong with an outcome as an administrator set it. `key` names its
/// fields (`title-{key}`, `need-{key}`, `achieved-{key}`); `name` is how the
/// messages call it.
pub fn check_outcome(o: &FrameworkOutcome, key: &str, name: &str) -> Vec<FieldError> {
    let mut out = vec![];
    if !o.is_default() {
        if o.title.trim().is_empty() {
            out.push(err(format!("title-{key}"), format!("Enter the title of {name}")));
        } else if o.title.chars().count() > MAX_TITLE {
            out.push(err(
                format!("title-{key}"),
                format!("The title of {name} must be {MAX_TITLE} characters or fewer"),
            ));
        }
    }
    for (field, what, text) in [
        ("need", "what need looks like", &o.need),
        ("achieved", "what achieving it looks like", &o.achieved),
    ] {
        if text.trim().is_empty() {
            out.push(err(format!("{field}-{key}"), format!("Enter {what} for {name}")));
        } else if text.chars().count() > MAX_DESCRIPTOR {
            out.push(err(
                format!("{field}-{key}"),
                format!("Describe {what} for {name} in {MAX_DESCRIPTOR} characters or fewer"),
            ));
        }
    }
    out
}

/// What is wrong with a whole framework: each outcome's problems, a title
/// used twice, and at least one outcome offered.
pub fn check_framework(framework: &[FrameworkOutcome]) -> Vec<FieldError> {
    let mut out = vec![];
    for (i, o) in framework.iter().enumerate() {
        let name = if o.is_default() {
            format!("\u{201c}{}\u{201d}", o.title)
        } else {
            format!("outcome {}", i + 1)
        };
        out.extend(check_outcome(o, &o.code, &name));
        let lower = o.title.trim().to_lowercase();
        if !lower.is_empty() && framework[..i].iter().any(|p| p.title.trim().to_lowercase() == lower) {
            out.push(err(
                format!("title-{}", o.code),
                format!("There is already an outcome called \u{201c}{}\u{201d}", o.title.trim()),
            ));
        }
    }
    if !framework.iter().any(|o| o.offered) {
        out.push(err("outcomes", "Offer at least one outcome"));
    }
    out
}

/// The title of an outcome code in a framework, offered or retired; a code
/// the framework does not know (it should not happen) reads as itself.
pub fn title<'a>(framework: &'a [FrameworkOutcome], code: &'a str) -> &'a str {
    framework
        .iter()
        .find(|o| o.code == code)
        .map(|o| o.title.as_str())
        .unwrap_or(code)
}

/// One open need's answer on the closure form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultAnswer {
    pub need_id: i64,
    /// How the form names the need ("Poor school attendance").
    pub description: String,
    /// The result chosen, if one was.
    pub result: Option<NeedResult>,
    pub evidence: String,
}

/// The field of a need's result on a form.
pub fn result_field(need_id: i64) -> String {
    format!("result-{need_id}")
}

/// The field of a need's evidence on a form.
pub fn evidence_field(need_id: i64) -> String {
    format!("evidence-{need_id}")
}

/// Why the episode cannot close yet: every open need in its register must
/// have a result and the evidence for it. One error per missing field,
/// naming the need.
pub fn closure_errors(answers: &[ResultAnswer]) -> Vec<FieldError> {
    let mut out = vec![];
    for a in answers {
        out.extend(result_errors(a));
    }
    out
}

/// What is missing from one need's result.
pub fn result_errors(a: &ResultAnswer) -> Vec<FieldError> {
    let mut out = vec![];
    let name = format!("\u{201c}{}\u{201d}", a.description);
    if a.result.is_none() {
        out.push(err(
            result_field(a.need_id),
            format!("Choose the result for the need {name}"),
        ));
    }
    if a.evidence.trim().is_empty() {
        out.push(err(
            evidence_field(a.need_id),
            format!("Enter the evidence for the result of the need {name}"),
        ));
    } else if a.evidence.chars().count() > MAX_TEXT {
        out.push(err(
            evidence_field(a.need_id),
            format!("The evidence for {name} must be {MAX_TEXT} characters or fewer"),
        ));
    }
    out
}

/// Months from closure to the check that an achieved outcome held.
pub const SUSTAINMENT_MONTHS: i32 = 6;

/// When to check whether outcomes achieved at a closure on `closed_on` were
/// sustained: six calendar months later (31 August → 28 or 29 February).
pub fn sustainment_due(closed_on: Date) -> Date {
    add_months(closed_on, SUSTAINMENT_MONTHS)
}

/// Whether the sustainment check may be recorded `today`: not before it is due.
pub fn sustainment_open(closed_on: Date, today: Date) -> bool {
    today >= sustainment_due(closed_on)
}

/// One area's soft outcome: its first and latest scores on the family-led
/// assessment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaDistance {
    pub area: String,
    pub first: u8,
    pub first_on: Date,
    pub latest: u8,
    pub latest_on: Date,
}

impl AreaDistance {
    /// Points moved, up (better) or down.
    pub fn change(&self) -> i16 {
        i16::from(self.latest) - i16::from(self.first)
    }
}

/// Distance travelled for one family: for each area scored in at least two
/// assessments, the score in the earliest that scored it and in the latest.
/// `assessments` are (date, scores), in any order; two on the same day are
/// taken in the order given. Areas come out in the order first seen.
pub fn distance_travelled(assessments: &[(Date, Vec<(String, u8)>)]) -> Vec<AreaDistance> {
    let mut order: Vec<usize> = (0..assessments.len()).collect();
    order.sort_by_key(|i| (assessments[*i].0, *i));
    // area -> (first, first_on, latest, latest_on, times scored)
    let mut seen: Vec<(String, u8, Date, u8, Date, usize)> = vec![];
    for i in order {
        let (on, scores) = &assessments[i];
        for (area, score) in scores {
            match seen.iter_mut().find(|s| &s.0 == area) {
                Some(s) => {
                    s.3 = *score;
                    s.4 = *on;
                    s.5 += 1;
                }
                None => seen.push((area.clone(), *score, *on, *score, *on, 1)),
            }
        }
    }
    seen.into_iter()
        .filter(|s| s.5 >= 2)
        .map(|(area, first, first_on, latest, latest_on, _)| AreaDistance {
            area,
            first,
            first_on,
            latest,
            latest_on,
        })
        .collect()
}

/// How many areas went up, stayed the same and went down.
pub fn movement(distances: &[AreaDistance]) -> (usize, usize, usize) {
    let up = distances.iter().filter(|d| d.change() > 0).count();
    let down = distances.iter().filter(|d| d.change() < 0).count();
    (up, distances.len() - up - down, down)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;
    use time::{Duration, Month};

    fn day() -> impl Strategy<Value = Date> {
        (0i64..4000).prop_map(|d| date!(2020 - 01 - 01) + Duration::days(d))
    }

    type Scored = (Date, Vec<(String, u8)>);

    fn assessments() -> impl Strategy<Value = Vec<Scored>> {
        prop::collection::vec(
            (
                day(),
                prop::collection::btree_map(0usize..6, 1u8..=10, 0..6)
                    .prop_map(|m| m.into_iter().map(|(k, v)| (format!("area_{k}"), v)).collect()),
            ),
            0..8,
        )
    }

    proptest! {
        /// Distance travelled pairs each area's earliest score with its
        /// latest, and leaves out an area scored only once.
        #[test]
        fn distance_is_first_against_latest(a in assessments()) {
            let d = distance_travelled(&a);
            let mut sorted: Vec<(usize, &Scored)> = a.iter().enumerate().collect();
            sorted.sort_by_key(|(i, x)| (x.0, *i));
            for k in 0..6 {
                let area = format!("area_{k}");
                let scored: Vec<(Date, u8)> = sorted
                    .iter()
                    .filter_map(|(_, (on, s))| s.iter().find(|x| x.0 == area).map(|x| (*on, x.1)))
                    .collect();
                let got = d.iter().find(|x| x.area == area);
                if scored.len() < 2 {
                    prop_assert!(got.is_none());
                } else {
                    let got = got.unwrap();
                    prop_assert_eq!((got.first_on, got.first), scored[0]);
                    prop_assert_eq!((got.latest_on, got.latest), *scored.last().unwrap());
                    prop_assert!(got.first_on <= got.latest_on);
                    prop_assert_eq!(got.change(), i16::from(got.latest) - i16::from(got.first));
                }
            }
            let (up, same, down) = movement(&d);
            prop_assert_eq!(up + same + down, d.len());
            // The order assessments arrive in does not change the answer (distinct dates).
            let mut dates: Vec<Date> = a.iter().map(|x| x.0).collect();
            dates.sort();
            dates.dedup();
            if dates.len() == a.len() {
                let mut reversed = a.clone();
                reversed.reverse();
                let mut r = distance_travelled(&reversed);
                let mut d2 = d.clone();
                r.sort_by(|x, y| x.area.cmp(&y.area));
                d2.sort_by(|x, y| x.area.cmp(&y.area));
                prop_assert_eq!(r, d2);
            }
        }

        /// The sustainment check is six calendar months on: the same day of
        /// the month where it exists, else the month's last day; always
        /// between 181 and 184 days later; never open before it is due.
        #[test]
        fn sustainment_is_six_calendar_months_on(closed in day(), today in day()) {
            let due = sustainment_due(closed);
            let months = (due.year() - closed.year()) * 12 + i32::from(u8::from(due.month())) - i32::from(u8::from(closed.month()));
            prop_assert_eq!(months, 6);
            prop_assert!(due.day() == closed.day() || (due.day() < closed.day() && due.next_day().unwrap().day() == 1));
            let days = (due - closed).whole_days();
            prop_assert!((181..=184).contains(&days), "{} days", days);
            prop_assert_eq!(sustainment_open(closed, today), today >= due);
            prop_assert!(!sustainment_open(closed, closed));
        }

        /// An episode closes only when every open need has a result and
        /// evidence; each missing one is named on its own field.
        #[test]
        fn closure_needs_every_result_and_evidence(
            answers in prop::collection::vec((prop::option::of(prop::sample::select(NeedResult::ALL.to_vec())),
                prop_oneof![Just(String::new()), Just("  ".to_string()), "[a-z ]{1,20}"]), 0..6)
        ) {
            let answers: Vec<ResultAnswer> = answers
                .into_iter()
                .enumerate()
                .map(|(i, (result, evidence))| ResultAnswer { need_id: i as i64 + 1, description: format!("need {i}"), result, evidence })
                .collect();
            let errors = closure_errors(&answers);
            let complete = answers.iter().all(|a| a.result.is_some() && !a.evidence.trim().is_empty());
            prop_assert_eq!(errors.is_empty(), complete);
            for a in &answers {
                prop_assert_eq!(errors.iter().any(|e| e.field == result_field(a.need_id)), a.result.is_none());
                prop_assert_eq!(errors.iter().any(|e| e.field == evidence_field(a.need_id)), a.evidence.trim().is_empty());
                for e in errors.iter().filter(|e| e.field.ends_with(&format!("-{}", a.need_id))) {
                    prop_assert!(e.message.contains(&a.description));
                }
            }
        }

        /// Every default outcome appears once, in order, reworded or retired;
        /// the tenant's own follow; no code twice; a default keeps its title.
        #[test]
        fn tenant_framework_keeps_every_default_once(
            edited in prop::collection::btree_map(0usize..10, ("[a-z ]{1,12}", any::<bool>()), 0..10),
            own in 0usize..4,
        ) {
            let d = default_framework();
            let mut saved: Vec<FrameworkOutcome> = edited
                .iter()
                .map(|(k, (text, offered))| FrameworkOutcome {
                    code: d[*k].code.clone(),
                    title: "Renamed".into(),
                    need: text.clone(),
                    achieved: text.clone(),
                    offered: *offered,
                })
                .collect();
            for _ in 0..own {
                let code = next_own_code(&tenant_framework(&saved));
                saved.push(FrameworkOutcome { code, title: "Ours".into(), need: "n".into(), achieved: "a".into(), offered: true });
            }
            let f = tenant_framework(&saved);
            prop_assert_eq!(f.len(), d.len() + own);
            for (i, o) in d.iter().enumerate() {
                prop_assert_eq!(&f[i].code, &o.code);
                prop_assert_eq!(&f[i].title, &o.title);
                match edited.get(&i) {
                    Some((text, offered)) => prop_assert_eq!((&f[i].need, f[i].offered), (text, *offered)),
                    None => prop_assert_eq!(&f[i], o),
                }
            }
            let mut codes: Vec<_> = f.iter().map(|o| o.code.clone()).collect();
            codes.sort();
            codes.dedup();
            prop_assert_eq!(codes.len(), f.len());
            prop_assert_eq!(offered(&f).len(), f.iter().filter(|o| o.offered).count());
        }
    }

    #[test]
    fn the_default_framework_is_the_ten_headline_outcomes_with_descriptors() {
        let f = default_framework();
        assert_eq!(f.len(), 10);
        assert!(check_framework(&f).is_empty());
        for o in &f {
            assert!(o.is_default() && o.offered);
            assert!(!o.need.is_empty() && !o.achieved.is_empty());
            assert!(o.need.chars().count() <= MAX_DESCRIPTOR && o.achieved.chars().count() <= MAX_DESCRIPTOR);
            assert!(!o.need.contains("  "), "{}", o.need);
        }
        assert!(f[0].need.contains("90%") && f[0].achieved.contains("three school terms"));
        assert_eq!(title(&f, "housing"), "Secure housing");
    }

    #[test]
    fn a_framework_is_checked_field_by_field() {
        let mut f = default_framework();
        f[1].need = " ".into();
        f.push(FrameworkOutcome {
            code: "own_1".into(),
            title: "getting a good education".into(),
            need: "x".repeat(MAX_DESCRIPTOR + 1),
            achieved: "Settled".into(),
            offered: true,
        });
        let e = check_framework(&f);
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["need-early_years", "need-own_1", "title-own_1"]);
        assert!(
            e[0].message.contains("Good early years development"),
            "{}",
            e[0].message
        );
        for o in &mut f {
            o.offered = false;
        }
        assert!(check_framework(&f).iter().any(|e| e.field == "outcomes"));
    }

    #[test]
    fn sustainment_examples() {
        assert_eq!(sustainment_due(date!(2025 - 08 - 31)), date!(2026 - 02 - 28));
        assert_eq!(sustainment_due(date!(2027 - 08 - 31)), date!(2028 - 02 - 29));
        assert_eq!(sustainment_due(date!(2025 - 01 - 15)), date!(2025 - 07 - 15));
        assert_eq!(sustainment_due(date!(2025 - 12 - 31)).month(), Month::June);
        assert!(sustainment_open(date!(2025 - 01 - 15), date!(2025 - 07 - 15)));
        assert!(!sustainment_open(date!(2025 - 01 - 15), date!(2025 - 07 - 14)));
        assert!(Sustained::from_bool(true).as_bool() && !Sustained::from_bool(false).as_bool());
    }

    #[test]
    fn distance_examples() {
        let a = vec![
            (
                date!(2025 - 03 - 01),
                vec![("housing".to_string(), 7), ("finance".to_string(), 4)],
            ),
            (
                date!(2025 - 01 - 01),
                vec![("housing".to_string(), 2), ("health".to_string(), 5)],
            ),
            (
                date!(2025 - 02 - 01),
                vec![("housing".to_string(), 5), ("finance".to_string(), 6)],
            ),
        ];
        let d = distance_travelled(&a);
        assert_eq!(d.len(), 2);
        assert_eq!(
            (d[0].area.as_str(), d[0].first, d[0].latest, d[0].change()),
            ("housing", 2, 7, 5)
        );
        assert_eq!(
            (d[1].area.as_str(), d[1].first, d[1].latest, d[1].change()),
            ("finance", 6, 4, -2)
        );
        assert_eq!(movement(&d), (1, 0, 1));
    }
}
