//! Child development in the demo: each borough's made-up ASQ cut-offs (never
//! a published table), ASQ-3 and ASQ:SE results and an integrated review at
//! two for the family of eight's younger children, ASQ-3s for a few other
//! families' under-fives, and early help assessments — one completed, one
//! draft started from it — on each family of eight. All through the store's
//! normal calls: a few dozen rows, so `kindred demo` stays fast.

use kindred_domain::development::{self as dev, Area, EarlyHelpOutcome, Instrument};
use kindred_store::Db;
use kindred_store::development::{NewQuestionnaire, NewTwoYearReview};
use kindred_store::early_help::EarlyHelpText;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use time::{Date, Duration};

use crate::Partnership;
use crate::casework::Known;

/// Made-up cut-offs, obviously not a published table: the same round numbers
/// for every area. Westminster sets 24, 27 and 30 months (so its 36-month
/// results show "no cut-off configured"); Kensington and Chelsea adds 36.
fn cutoffs(code: &str) -> (Vec<u8>, (u32, u32), (u32, u32)) {
    match code {
        "westminster" => (vec![24, 27, 30], (2500, 3500), (6000, 4500)),
        _ => (vec![24, 27, 30, 36], (3000, 4000), (5500, 4000)),
    }
}

/// The day a child reached `months` of age.
fn at_months(born: Date, months: u8) -> Date {
    let total = born.year() * 12 + born.month() as i32 - 1 + i32::from(months);
    let (y, m) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u8);
    let month = time::Month::try_from(m).unwrap_or(time::Month::January);
    let day = born.day().min(time::util::days_in_month(month, y));
    Date::from_calendar_date(y, month, day).unwrap_or(born)
}

fn asq3(
    p: &Partnership,
    (family_id, person_id): (i64, i64),
    interval: u8,
    on: Date,
    by: i64,
    scores: [u16; 5],
    notes: &str,
) -> NewQuestionnaire {
    NewQuestionnaire {
        tenant_id: p.tenant_id,
        family_id,
        person_id,
        instrument: Instrument::Asq3.code().into(),
        interval_months: interval,
        completed_on: on,
        author_user_id: by,
        notes: notes.into(),
        scores: Area::ALL
            .iter()
            .zip(scores)
            .map(|(a, s)| (a.code().to_string(), s))
            .collect(),
    }
}

/// Seeds one borough's cut-offs and the child development and early help
/// casework of its family of eight and a few other families.
pub(crate) async fn seed(
    db: &Db,
    p: &Partnership,
    large_family: i64,
    known: &[Known],
    rng: &mut ChaCha8Rng,
) -> anyhow::Result<()> {
    let (intervals, asq, se) = cutoffs(p.code);
    for interval in &intervals {
        for a in Area::ALL {
            db.set_asq_cutoff(p.tenant_id, None, "asq3", *interval, a.code(), Some(asq))
                .await?;
        }
    }
    db.set_asq_cutoff(p.tenant_id, None, "asqse", 24, dev::SE_TOTAL, Some(se))
        .await?;

    let today = kindred_store::today();
    let family = db.family(large_family).await?;
    let hv = p.named.get("hv").copied().or_else(|| {
        p.orgs
            .get(&kindred_domain::model::OrgKind::HealthVisiting)
            .and_then(|orgs| orgs.iter().find_map(|o| p.workers.get(o).and_then(|w| w.first())))
            .copied()
    });
    let eh = p.named.get("earlyhelp").copied().or(family.lead_user_id).or(hv);
    let (Some(hv), Some(eh)) = (hv, eh) else {
        return Ok(());
    };
    let members = db.members(large_family).await?;
    let young: Vec<(i64, Date)> = members
        .iter()
        .filter_map(|m| m.person.date_of_birth.map(|d| (m.person.id, d)))
        .filter(|(_, d)| dates_age(*d, today) < 60)
        .collect();
    for (person, born) in &young {
        let age = dates_age(*born, today);
        if age >= 30 {
            // The three-year-old: at 24 months, communication below the cut-off;
            // the integrated review took that ASQ-3 in, and the ASQ:SE.
            let on24 = at_months(*born, 24);
            let q24 = db
                .create_questionnaire(&asq3(
                    p,
                    (large_family, *person),
                    24,
                    on24,
                    hv,
                    [15, 45, 40, 35, 30],
                    "Completed with mum at the hub. Few words yet; understands well.",
                ))
                .await?;
            db.create_questionnaire(&NewQuestionnaire {
                instrument: Instrument::AsqSe.code().into(),
                scores: vec![(dev::SE_TOTAL.into(), 50)],
                notes: "Some tantrums at bedtime.".into(),
                ..asq3(p, (large_family, *person), 24, on24, hv, [0; 5], "")
            })
            .await?;
            db.create_two_year_review(&NewTwoYearReview {
                tenant_id: p.tenant_id,
                family_id: large_family,
                person_id: *person,
                reviewed_on: on24 + Duration::days(21),
                author_user_id: hv,
                questionnaire_id: Some(q24),
                weight_grams: Some(12_600),
                height_mm: Some(874),
                health_notes: "Growing along the 50th centile. Immunisations up to date. Hearing test booked.".into(),
                setting_name: "Little Acorns Nursery".into(),
                eyfs_communication: "not_on_track".into(),
                eyfs_physical: "on_track".into(),
                eyfs_psed: "some_concerns".into(),
                eyfs_notes: "Plays alongside others; uses gestures more than words.".into(),
                parent_views: "Mum is worried about talking: the older children had more words at this age.".into(),
                next_steps: "Hearing test; Chatter Group at the family hub; review at 30 months.".into(),
            })
            .await?;
            db.create_questionnaire(&asq3(
                p,
                (large_family, *person),
                30,
                at_months(*born, 30),
                hv,
                [30, 50, 45, 40, 35],
                "Talking more since Chatter Group.",
            ))
            .await?;
            if age >= 36 {
                db.create_questionnaire(&asq3(
                    p,
                    (large_family, *person),
                    36,
                    at_months(*born, 36),
                    hv,
                    [40, 55, 45, 50, 45],
                    "",
                ))
                .await?;
            }
        } else if let Some(interval) = dev::suggested_interval(Instrument::Asq3, age) {
            db.create_questionnaire(&asq3(
                p,
                (large_family, *person),
                interval,
                at_months(*born, interval),
                hv,
                [50, 45, 50, 40, 50],
                "",
            ))
            .await?;
        }
    }

    // A few other families' under-fives, some below the cut-off.
    for k in known.iter().take(8) {
        for m in &k.members {
            let Some(born) = m.dob else { continue };
            let age = dates_age(born, today);
            let Some(interval) = (age < 60)
                .then(|| dev::suggested_interval(Instrument::Asq3, age))
                .flatten()
            else {
                continue;
            };
            let mut score = || rng.gen_range(2..=12u16) * 5;
            let scores = [score(), score(), score(), score(), score()];
            db.create_questionnaire(&asq3(
                p,
                (k.family_id, m.id),
                interval,
                at_months(born, interval),
                hv,
                scores,
                "",
            ))
            .await?;
        }
    }

    // The common early help assessment: completed four months ago, and a
    // draft review started from it this week.
    let completed = EarlyHelpText {
        reason: "Three referrals this year from different services; the family asked for one plan.".into(),
        child_development: "The youngest is not yet talking as expected (ASQ-3 communication below cut-off). The 8-year-old has an EHCP; the 15-year-old's attendance has fallen.".into(),
        parenting_capacity: "Warm, loving care. Mum's low mood since the baby makes mornings hard; dad works nights.".into(),
        family_environment: "Eight in a three-bedroom flat; grandmother lives with them and needs care. Rent arrears since spring.".into(),
        child_views: "The 15-year-old: \"I just want my own space to do homework.\" The younger ones were seen playing happily.".into(),
        family_views: "\"We are tired, not failing. We want one person to talk to.\"".into(),
        strengths: "Close family, grandmother's support with the little ones, a school that knows them well.".into(),
        needs: "Speech and language support; mum's mental health; housing and money advice; a young carer's assessment.".into(),
        analysis: "Many small needs that together are more than any one service can meet. A team around the family with one lead professional and one plan.".into(),
        outcome: EarlyHelpOutcome::TeamAroundFamily.code().into(),
    };
    db.create_early_help_assessment(
        p.tenant_id,
        large_family,
        eh,
        today - Duration::days(130),
        &completed,
        Some(today - Duration::days(120)),
    )
    .await?;
    let draft = EarlyHelpText {
        reason: "Review after four months of the family plan.".into(),
        analysis: String::new(),
        outcome: String::new(),
        ..completed
    };
    db.create_early_help_assessment(p.tenant_id, large_family, eh, today - Duration::days(2), &draft, None)
        .await?;
    Ok(())
}

fn dates_age(born: Date, on: Date) -> i32 {
    dev::age_in_months(born, on)
}
