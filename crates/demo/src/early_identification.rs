//! Early identification in the demo (F20): each borough's agreement that lets
//! partners' signals reach early help and the family hubs for early
//! identification, a school attendance feed from its schools and a rent
//! arrears feed from its housing service (through the real import), open
//! adult mental health and police involvements, so the triage officer and
//! the manager find a handful of families listed with mixed sources — and
//! one already decided ("offer made").
//!
//! Families are chosen among those not already known (no open episode,
//! statutory flag or open referral), in a fixed pattern of signals; others
//! get a good attendance figure, one service's signal only, or a signal at
//! the level where its own service acts, so the list is short and each
//! entry explained.

use kindred_domain::early_identification::{self as ei, Decision, Thresholds};
use kindred_domain::feeds::FeedKind;
use kindred_domain::model::OrgKind;
use kindred_domain::sharing::{DataCategory, EARLY_IDENTIFICATION, LawfulBasis};
use kindred_feeds::ImportOptions;
use kindred_store::Db;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::{Date, Duration};

use crate::casework::Known;
use crate::{Kind, Member, Partnership};

/// How many families each borough sets up to be listed.
const LISTED: usize = 8;

fn iso(d: Date) -> String {
    kindred_domain::dates::iso(d)
}

/// The school term an attendance figure is for: the one under way, or the last.
fn term(today: Date) -> String {
    let y = today.year();
    let candidates = [format!("Autumn {y}"), format!("Summer {y}"), format!("Spring {y}")];
    candidates
        .iter()
        .find_map(|t| {
            kindred_domain::feeds::parse_term(t)
                .filter(|(_, d)| *d <= today)
                .map(|(l, _)| l)
        })
        .unwrap_or_else(|| format!("Autumn {}", y - 1))
}

fn attendance_row(n: usize, m: &Member, k: &Known, term: &str, tenths: u16) -> String {
    format!(
        "SA{n:05},,{},{},{},{},,{},{term},{}.{}\n",
        m.nhs.clone().unwrap_or_default(),
        m.given,
        m.family,
        m.dob.map(iso).unwrap_or_default(),
        k.postcode,
        tenths / 10,
        tenths % 10
    )
}

fn arrears_row(n: usize, m: &Member, k: &Known, weeks_tenths: u16, as_at: Date) -> String {
    format!(
        "RA{n:05},{},{},{},{},,{},{},{}.{},{}\n",
        m.nhs.clone().unwrap_or_default(),
        m.given,
        m.family,
        m.dob.map(iso).unwrap_or_default(),
        k.line1,
        k.postcode,
        weeks_tenths / 10,
        weeks_tenths % 10,
        iso(as_at)
    )
}

/// Seeds one borough; returns the line `kindred demo` prints.
pub(crate) async fn seed(db: &Db, p: &Partnership, known: &[Known], seed: u64, today: Date) -> anyhow::Result<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let first = |k: OrgKind| p.orgs.get(&k).and_then(|v| v.first().copied());
    let all = |k: OrgKind| p.orgs.get(&k).cloned().unwrap_or_default();
    let (Some(admin), Some(triage), Some(housing), Some(amh), Some(police), Some(hv)) = (
        p.named.get("admin").copied(),
        p.named.get("triage").copied(),
        first(OrgKind::Housing),
        first(OrgKind::AdultMentalHealth),
        first(OrgKind::Police),
        first(OrgKind::HealthVisiting),
    ) else {
        return Ok(format!("{}: no early identification (organisations missing)", p.code));
    };
    let schools = all(OrgKind::School);
    let Some(&school) = schools.first() else {
        return Ok(format!("{}: no early identification (no school)", p.code));
    };
    let mut parties = all(OrgKind::EarlyHelp);
    parties.extend(all(OrgKind::FamilyHub));
    parties.extend(schools.iter().copied());
    parties.extend([housing, amh, police, hv]);
    db.create_agreement(&kindred_store::consents::NewAgreement {
        tenant_id: p.tenant_id,
        title: "Early identification: partners' signals to early help and the family hubs".into(),
        lawful_basis: LawfulBasis::PublicTask,
        purposes: vec![EARLY_IDENTIFICATION.into()],
        categories: vec![
            DataCategory::Health,
            DataCategory::Education,
            DataCategory::Housing,
            DataCategory::Involvement,
        ],
        starts_on: today - Duration::days(200),
        ends_on: None,
        organisation_ids: parties,
        created_by_user_id: admin,
    })
    .await?;
    // Families with a school-age child and an adult, not already known, and
    // with no missed immunisation (so what they show is what is set here).
    let ids: Vec<i64> = known.iter().map(|k| k.family_id).collect();
    let already = db.known_families(&ids).await?;
    let gathered = db
        .early_identification_facts(p.tenant_id, today - Duration::days(365))
        .await?;
    let with_facts: std::collections::BTreeSet<i64> = gathered.families.iter().map(|f| f.family_id).collect();
    let pupil = |m: &&Member| matches!(m.kind, Kind::Child) && (5..16).contains(&m.age) && m.nhs.is_some();
    let adult = |m: &&Member| matches!(m.kind, Kind::Adult) && m.dob.is_some() && m.nhs.is_some();
    let candidates: Vec<(&Known, &Member, &Member)> = known
        .iter()
        .skip(30)
        .filter(|k| !already.contains(&k.family_id) && !with_facts.contains(&k.family_id))
        .filter_map(|k| {
            let c = k.members.iter().find(pupil)?;
            let a = k.members.iter().find(adult)?;
            Some((k, c, a))
        })
        .collect();
    let term = term(today);
    let mut attendance = String::from(
        "record_id,upn,nhs_number,given_name,family_name,date_of_birth,sex,postcode,term,attendance_percent\n",
    );
    let mut arrears = String::from(
        "record_id,nhs_number,given_name,family_name,date_of_birth,sex,address,postcode,weeks_in_arrears,as_at\n",
    );
    let (mut na, mut nr) = (0, 0);
    let mut decided_family = None;
    for (i, (k, child, parent)) in candidates.iter().enumerate() {
        let low = 840 + rng.gen_range(0..55u16); // 84.0–89.4%: persistent absence
        let owed = 40 + rng.gen_range(0..35u16); // 4.0–7.4 weeks
        let as_at = today - Duration::days(rng.gen_range(3..40));
        if i < LISTED {
            // Two or three services each, below every service's own threshold.
            let (school_signal, housing_signal, mental_health, police_involved) = match i % 4 {
                0 => (true, true, false, false),
                1 => (true, false, true, false),
                2 => (false, true, true, false),
                _ => (true, true, false, true),
            };
            if school_signal {
                na += 1;
                attendance.push_str(&attendance_row(na, child, k, &term, low));
            }
            if housing_signal {
                nr += 1;
                arrears.push_str(&arrears_row(nr, parent, k, owed, as_at));
            }
            if mental_health {
                db.add_involvement(
                    k.family_id,
                    amh,
                    "Community mental health team (a parent)",
                    today - Duration::days(rng.gen_range(30..400)),
                )
                .await?;
            }
            if police_involved {
                db.add_involvement(
                    k.family_id,
                    police,
                    "Domestic abuse notifications (standard risk)",
                    today - Duration::days(rng.gen_range(10..120)),
                )
                .await?;
            }
            if i == 0 {
                decided_family = Some(k.family_id);
            }
        } else if i < LISTED + 30 {
            // Not listed: a good attendance figure; one service alone; or a
            // service already acting on its own (severe absence, high arrears).
            na += 1;
            let tenths = match i - LISTED {
                0 | 1 => low,
                2 => 380,
                _ => 920 + rng.gen_range(0..80u16),
            };
            attendance.push_str(&attendance_row(na, child, k, &term, tenths));
            if i - LISTED == 2 || i - LISTED == 3 {
                nr += 1;
                let weeks = if i - LISTED == 3 { 95 } else { owed };
                arrears.push_str(&arrears_row(nr, parent, k, weeks, as_at));
            }
        }
    }
    let opts = |kind: FeedKind, supplier: i64, file: &str| ImportOptions {
        tenant_id: p.tenant_id,
        organisation_id: supplier,
        kind,
        source_system: None,
        mapping: None,
        file_name: file.into(),
        started_by_user_id: p.named.get("data").copied(),
        thresholds: kindred_domain::feeds::Thresholds::default(),
        today,
    };
    kindred_feeds::import(
        db,
        attendance.as_bytes(),
        &opts(FeedKind::SchoolAttendance, school, "school-attendance.csv"),
        &|_: u64, _: u64| {},
    )
    .await?;
    kindred_feeds::import(
        db,
        arrears.as_bytes(),
        &opts(FeedKind::HousingArrears, housing, "rent-arrears.csv"),
        &|_: u64, _: u64| {},
    )
    .await?;
    if let Some(family) = decided_family {
        db.record_early_identification_decision(
            p.tenant_id,
            family,
            Decision::OfferMade,
            "Spoke to mum at the school gate; she would like a family navigator to visit.",
            triage,
        )
        .await?;
    }
    // What the triage officer will see.
    let (agreements, _) = db.agreements_touching(p.tenant_id).await?;
    let triage_org = first(OrgKind::EarlyHelp).unwrap_or_default();
    let gathered = db
        .early_identification_facts(p.tenant_id, today - Duration::days(365))
        .await?;
    let listed: Vec<_> = gathered
        .families
        .iter()
        .filter_map(|f| {
            ei::identify(
                f,
                |x| ei::fact_shared(triage_org, x, &agreements, today).is_some(),
                &Thresholds::default(),
                today,
            )
            .ok()
        })
        .collect();
    let decided = listed
        .iter()
        .filter(|l| matches!(l.standing, ei::Standing::Decided(_)))
        .count();
    Ok(format!(
        "{}: {} families listed, {} of them decided",
        p.code,
        listed.len(),
        decided
    ))
}
