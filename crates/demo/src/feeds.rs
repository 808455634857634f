//! The feeds in the demo, through the real import (`kindred_feeds::import`):
//! a year of monthly live-birth files per borough (mothers already known,
//! some with a typo, most new; four in five with consent), antenatal
//! bookings, missed immunisations (shared with the hubs under an agreement)
//! and a housing extract with a mapping file, so the data officer finds
//! runs with rejected rows, a match review queue, and the manager a reach
//! dashboard with welcome contacts made.

use std::collections::HashSet;

use kindred_domain::feeds::{FeedKind, Thresholds};
use kindred_domain::model::OrgKind;
use kindred_domain::sharing::{DataCategory, EARLY_HELP_SHARING, LawfulBasis};
use kindred_feeds::{ImportOptions, Mapping};
use kindred_store::Db;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::{Date, Duration};

use crate::casework::Known;
use crate::{Kind, Partnership, names};

const VACCINES: &[&str] = &[
    "MMR 1",
    "MMR 2",
    "6-in-1 (third dose)",
    "Pneumococcal booster",
    "Hib/MenC",
    "4-in-1 pre-school booster",
];

struct Gen<'a> {
    rng: ChaCha8Rng,
    nhs_used: &'a mut HashSet<String>,
    p: &'a Partnership,
}

impl Gen<'_> {
    fn nhs(&mut self) -> String {
        crate::fresh_nhs_number(&mut self.rng, self.nhs_used).unwrap_or_else(|| crate::any_nhs_number(&mut self.rng))
    }

    fn postcode(&mut self) -> String {
        const LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
        // One family in twenty lives just outside every hub's reach.
        let d = if self.rng.gen_bool(0.05) {
            "NW6"
        } else {
            self.p.districts.choose(&mut self.rng).copied().unwrap_or("W2")
        };
        let a = LETTERS[self.rng.gen_range(0..LETTERS.len())] as char;
        let b = LETTERS[self.rng.gen_range(0..LETTERS.len())] as char;
        format!("{d} {}{a}{b}", self.rng.gen_range(1..10))
    }

    fn street(&mut self) -> String {
        format!(
            "{} {}",
            self.rng.gen_range(1..120),
            names::STREETS.choose(&mut self.rng).copied().unwrap_or("High Street")
        )
    }

    fn between(&mut self, from: Date, to: Date) -> Date {
        let days = (to - from).whole_days().max(0);
        from + Duration::days(self.rng.gen_range(0..=days))
    }
}

fn iso(d: Date) -> String {
    kindred_domain::dates::iso(d)
}

/// An English date, as many systems export them.
fn dmy(d: Date) -> String {
    format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())
}

/// A one-letter typo in a name.
fn typo(name: &str, rng: &mut ChaCha8Rng) -> String {
    let mut c: Vec<char> = name.chars().collect();
    if c.len() > 3 {
        let i = rng.gen_range(1..c.len() - 1);
        c.swap(i, i + 1);
    }
    c.into_iter().collect()
}

/// What the demo printed about the feeds of one borough.
pub(crate) struct Seeded {
    pub runs: usize,
    pub to_review: i64,
    pub tasks: i64,
}

pub(crate) async fn seed(
    db: &Db,
    p: &Partnership,
    known: &[Known],
    seed: u64,
    nhs_used: &mut HashSet<String>,
    today: Date,
) -> anyhow::Result<Seeded> {
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(seed),
        nhs_used,
        p,
    };
    let data_officer = p.named.get("data").copied();
    let first = |k: OrgKind| p.orgs.get(&k).and_then(|v| v.first().copied());
    let (Some(maternity), Some(health_visiting), Some(hub_org), Some(housing)) = (
        first(OrgKind::Midwifery),
        first(OrgKind::HealthVisiting),
        first(OrgKind::FamilyHub),
        first(OrgKind::Housing).or(first(OrgKind::EarlyHelp)),
    ) else {
        return Ok(Seeded {
            runs: 0,
            to_review: 0,
            tasks: 0,
        });
    };
    // Child health and maternity data reach the family hubs for early help.
    if let Some(admin) = p.named.get("admin").copied() {
        db.create_agreement(&kindred_store::consents::NewAgreement {
            tenant_id: p.tenant_id,
            title: "Child health and maternity data to the family hubs".into(),
            lawful_basis: LawfulBasis::PublicTask,
            purposes: vec![EARLY_HELP_SHARING.into()],
            categories: vec![DataCategory::Health],
            starts_on: today - Duration::days(700),
            ends_on: None,
            organisation_ids: vec![maternity, health_visiting, hub_org],
            created_by_user_id: admin,
        })
        .await?;
    }
    let opts = |kind: FeedKind, supplier: i64, file: String| ImportOptions {
        tenant_id: p.tenant_id,
        organisation_id: supplier,
        kind,
        source_system: None,
        mapping: None,
        file_name: file,
        started_by_user_id: data_officer,
        thresholds: Thresholds::default(),
        today,
    };
    let mothers: Vec<(&Known, &crate::Member)> = known
        .iter()
        .skip(20)
        .flat_map(|k| {
            k.members
                .iter()
                .filter(|m| matches!(m.kind, Kind::Adult) && m.sex == "female" && m.dob.is_some())
                .map(move |m| (k, m))
        })
        .collect();
    // Welcome contacts the demo gave its workers by hand stay as they are.
    let handmade: HashSet<i64> = db
        .open_tasks_of_kind(p.tenant_id, "welcome_contact")
        .await?
        .into_iter()
        .map(|t| t.0)
        .collect();
    let mut runs = 0;
    let mut birth_id = 0;
    let mut to_review = 0;
    let mut tasks = 0;
    // A year of monthly live-birth files, oldest first.
    for back in (0..12).rev() {
        let month_start = {
            let mut d = Date::from_calendar_date(today.year(), today.month(), 1)?;
            for _ in 0..back {
                d = (d - Duration::days(1)).replace_day(1)?;
            }
            d
        };
        let month_end = ((month_start + Duration::days(32)).replace_day(1)? - Duration::days(1)).min(today);
        let mut csv = String::from(
            "birth_id,nhs_number,given_name,family_name,date_of_birth,sex,mother_nhs_number,mother_given_name,mother_family_name,mother_date_of_birth,address,postcode,consent\n",
        );
        let births = g.rng.gen_range(22..34);
        for _ in 0..births {
            birth_id += 1;
            let born = g.between(month_start, month_end);
            let girl = g.rng.gen_bool(0.5);
            let given = if girl { names::GIRLS } else { names::BOYS }
                .choose(&mut g.rng)
                .copied()
                .unwrap_or("Sam");
            let baby_nhs = g.nhs();
            let consent = if g.rng.gen_bool(0.8) { "yes" } else { "no" };
            let roll: f64 = g.rng.r#gen();
            let (m_nhs, m_given, m_family, m_dob, address, postcode) = if roll < 0.2 && !mothers.is_empty() {
                // A mother the partnership already knows, as her record has her.
                let (k, m) = mothers[g.rng.gen_range(0..mothers.len())];
                (
                    m.nhs.clone().unwrap_or_default(),
                    m.given.to_string(),
                    m.family.clone(),
                    m.dob.map(dmy).unwrap_or_default(),
                    k.line1.clone(),
                    k.postcode.clone(),
                )
            } else if roll < 0.27 && !mothers.is_empty() {
                // Known, but moved since, and typed in a hurry: no NHS number and a typo.
                let (_, m) = mothers[g.rng.gen_range(0..mothers.len())];
                let (street, pc) = (g.street(), g.postcode());
                (
                    String::new(),
                    typo(m.given, &mut g.rng),
                    m.family.clone(),
                    m.dob.map(dmy).unwrap_or_default(),
                    street,
                    pc,
                )
            } else {
                let dob = today - Duration::days(g.rng.gen_range(18 * 365..42 * 365));
                let family = names::SURNAMES
                    .choose(&mut g.rng)
                    .copied()
                    .unwrap_or("Smith")
                    .to_string();
                let given = names::WOMEN.choose(&mut g.rng).copied().unwrap_or("Sarah").to_string();
                let nhs = if g.rng.gen_bool(0.9) { g.nhs() } else { String::new() };
                (nhs, given, family, dmy(dob), g.street(), g.postcode())
            };
            let sex = if girl { "F" } else { "M" };
            csv.push_str(&format!(
                "LB{birth_id:06},{baby_nhs},{given},{m_family},{},{sex},{m_nhs},{m_given},{m_family},{m_dob},{address},{postcode},{consent}\n",
                iso(born)
            ));
        }
        // The newest month's file has two rows the register office must correct.
        if back == 0 {
            csv.push_str("LB-BAD-1,,Ola,Bello,2026-02-30,F,,Ronke,Bello,1990-04-04,3 Shirland Road,W9 2JH,yes\n");
            csv.push_str("LB-BAD-2,,Ben,Lowe,2026-10-01,M,,Amy,Lowe,1991-01-01,8 Elgin Avenue,W9 9ZZZ,perhaps\n");
        }
        let file = format!(
            "live-births-{}-{:02}.csv",
            month_start.year(),
            u8::from(month_start.month())
        );
        let out = kindred_feeds::import(
            db,
            csv.as_bytes(),
            &opts(FeedKind::LiveBirths, maternity, file),
            &|_: u64, _: u64| {},
        )
        .await?;
        runs += 1;
        to_review += out.counts.to_review;
        tasks += out.counts.tasks_made;
    }
    // Hub staff have made most welcome contacts older than a month.
    let hub_worker = p
        .workers
        .get(&hub_org)
        .and_then(|w| w.first().copied())
        .or(data_officer);
    if let Some(worker) = hub_worker {
        let month_ago = kindred_store::now_ms() - 30 * 86_400_000;
        for (task_id, created) in db.open_tasks_of_kind(p.tenant_id, "welcome_contact").await? {
            if !handmade.contains(&task_id) && (created < month_ago || g.rng.gen_bool(0.7)) {
                db.complete_task(task_id, worker).await?;
            }
        }
    }
    // Antenatal bookings at twelve weeks.
    let mut csv = String::from(
        "booking_id,nhs_number,given_name,family_name,date_of_birth,address,postcode,booking_date,expected_delivery,consent\n",
    );
    for i in 0..18 {
        let booked = today - Duration::days(g.rng.gen_range(3..60));
        let edd = booked + Duration::days(196);
        let dob = today - Duration::days(g.rng.gen_range(18 * 365..40 * 365));
        let family = names::SURNAMES.choose(&mut g.rng).copied().unwrap_or("Smith");
        let given = names::WOMEN.choose(&mut g.rng).copied().unwrap_or("Sarah");
        let consent = if g.rng.gen_bool(0.85) { "Y" } else { "N" };
        let nhs = g.nhs();
        let (street, pc) = (g.street(), g.postcode());
        csv.push_str(&format!(
            "AB{i:05},{nhs},{given},{family},{},{street},{pc},{},{},{consent}\n",
            dmy(dob),
            iso(booked),
            iso(edd)
        ));
    }
    let out = kindred_feeds::import(
        db,
        csv.as_bytes(),
        &opts(FeedKind::AntenatalBookings, maternity, "antenatal-bookings.csv".into()),
        &|_: u64, _: u64| {},
    )
    .await?;
    runs += 1;
    tasks += out.counts.tasks_made;
    // Missed immunisations for young children the partnership knows.
    let mut csv =
        String::from("record_id,nhs_number,given_name,family_name,date_of_birth,sex,postcode,vaccine,due_on\n");
    let children: Vec<(&Known, &crate::Member)> = known
        .iter()
        .skip(20)
        .flat_map(|k| {
            k.members
                .iter()
                .filter(|m| matches!(m.kind, Kind::Child) && m.age < 6 && m.dob.is_some())
                .map(move |m| (k, m))
        })
        .take(12)
        .collect();
    for (i, (k, m)) in children.iter().enumerate() {
        let vaccine = VACCINES[i % VACCINES.len()];
        let due = today - Duration::days(g.rng.gen_range(14..90));
        let sex = if m.sex == "female" { "F" } else { "M" };
        csv.push_str(&format!(
            "IMM{i:05},{},{},{},{},{sex},{},{vaccine},{}\n",
            m.nhs.clone().unwrap_or_default(),
            m.given,
            m.family,
            m.dob.map(iso).unwrap_or_default(),
            k.postcode,
            iso(due)
        ));
    }
    let out = kindred_feeds::import(
        db,
        csv.as_bytes(),
        &opts(
            FeedKind::MissedImmunisations,
            health_visiting,
            "missed-immunisations.csv".into(),
        ),
        &|_: u64, _: u64| {},
    )
    .await?;
    runs += 1;
    tasks += out.counts.tasks_made;
    // The housing register, with its own column names.
    let mapping = Mapping::parse(
        "source_system = \"housing-register\"\n[columns]\nid = \"TenancyRef\"\ngiven_name = \"Forename\"\nfamily_name = \"Surname\"\ndate_of_birth = \"DOB\"\npostcode = \"PostCode\"\naddress = \"Address1\"\nnhs_number = \"NHSNo\"\n",
    )?;
    let mut csv = String::from("TenancyRef,Forename,Surname,DOB,Address1,PostCode,NHSNo,ArrearsBand\n");
    let adults: Vec<(&Known, &crate::Member)> = known
        .iter()
        .flat_map(|k| {
            k.members
                .iter()
                .filter(|m| matches!(m.kind, Kind::Adult) && m.dob.is_some())
                .map(move |m| (k, m))
        })
        .take(45)
        .collect();
    for (i, (k, m)) in adults.iter().enumerate() {
        let dob = m.dob.expect("filtered");
        // The register has some of them at a newer address than the record.
        let (line1, postcode) = if i % 5 < 3 {
            (g.street(), g.postcode())
        } else {
            (k.line1.clone(), k.postcode.clone())
        };
        let (given, nhs, dob_s) = match i % 5 {
            // Nicknames, typos and a day/month swap, without the NHS number, and moved.
            0 => (
                crate::names::nickname(m.given).unwrap_or(m.given).to_string(),
                String::new(),
                dmy(dob),
            ),
            1 => (typo(m.given, &mut g.rng), String::new(), dmy(dob)),
            2 => (
                m.given.to_string(),
                String::new(),
                format!("{:02}/{:02}/{}", u8::from(dob.month()), dob.day(), dob.year()),
            ),
            _ => (m.given.to_string(), m.nhs.clone().unwrap_or_default(), dmy(dob)),
        };
        csv.push_str(&format!(
            "HT{i:05},{given},{},{dob_s},{line1},{postcode},{nhs},{}\n",
            m.family,
            ["A", "B", "C"][i % 3]
        ));
    }
    for i in 0..15 {
        let dob = today - Duration::days(g.rng.gen_range(20 * 365..70 * 365));
        let family = names::SURNAMES.choose(&mut g.rng).copied().unwrap_or("Smith");
        let given = names::MEN.choose(&mut g.rng).copied().unwrap_or("Tom");
        let (street, pc) = (g.street(), g.postcode());
        csv.push_str(&format!("HN{i:05},{given},{family},{},{street},{pc},,A\n", dmy(dob)));
    }
    csv.push_str("HX00001,,,,1 Nowhere Street,W2 1AA,,A\n");
    let mut o = opts(FeedKind::PersonExtract, housing, "housing-register.csv".into());
    o.mapping = Some(mapping);
    let out = kindred_feeds::import(db, csv.as_bytes(), &o, &|_: u64, _: u64| {}).await?;
    runs += 1;
    to_review += out.counts.to_review;
    // The health visiting system's record of pathway contacts done: most
    // children's past stages, some missed, so the lists show what is overdue.
    let model = db.pathway_model(p.tenant_id).await?;
    let mut csv = String::from(
        "record_id,nhs_number,given_name,family_name,date_of_birth,sex,postcode,stage,completed_on,breastfeeding\n",
    );
    let mut n = 0;
    for (_, nhs, given, family, born) in db
        .young_children(p.tenant_id, kindred_domain::pathway::add_months(today, -60))
        .await?
    {
        for stage in model.stages() {
            if stage.anchor != kindred_domain::pathway::Anchor::Birth {
                continue;
            }
            let closes = stage.closes.from(born);
            if closes >= today || !g.rng.gen_bool(0.85) {
                continue;
            }
            let opens = stage.opens.from(born);
            let on = g.between(opens, closes);
            n += 1;
            // At 6–8 weeks, how the baby is fed: about half breastfed at all.
            let feeding = if stage.code == "six_eight_weeks" {
                match g.rng.gen_range(0..10) {
                    0..=2 => "total",
                    3..=4 => "partial",
                    5 => "",
                    _ => "none",
                }
            } else {
                ""
            };
            csv.push_str(&format!(
                "HV{n:06},{},{given},{family},{},,,{},{},{feeding}\n",
                nhs.as_deref().unwrap_or_default(),
                iso(born),
                stage.code,
                iso(on)
            ));
        }
    }
    kindred_feeds::import(
        db,
        csv.as_bytes(),
        &opts(
            FeedKind::PathwayContacts,
            health_visiting,
            "health-visiting-contacts.csv".into(),
        ),
        &|_: u64, _: u64| {},
    )
    .await?;
    runs += 1;
    Ok(Seeded { runs, to_review, tasks })
}
