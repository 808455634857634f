//! The service directory (issue 8, F17) of each borough: its family hub
//! offer and Start for Life offer and the services around them — stay and
//! play, infant feeding, perinatal mental health, speech and language,
//! parenting programmes, SEND youth clubs to 25, debt, housing and domestic
//! abuse advice — at the borough's hub sites, with schedules, costs (most
//! free), languages, delivery modes and contacts (fake 020 7946 numbers,
//! example.org addresses). Some services take connection requests through
//! Kindred partners; the demo VCS worker's organisation receives requests in
//! every status, sent by the demo health visitor and early help worker.

use kindred_domain::access::{self, FamilyAction};
use kindred_domain::model::OrgKind;
use kindred_store::Db;
use kindred_store::connections::NewConnection;
use kindred_store::directory::{
    ContactData, CostData, LanguageData, LocationData, OrganisationData, ScheduleData, ServiceData, ServiceFilter,
};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use time::Date;

use crate::Partnership;
use crate::casework::Known;

/// Who runs a service: a kind of Kindred partner (the borough's first of that
/// kind), or a charity outside Kindred.
#[derive(Clone, Copy)]
enum Runs {
    Partner(OrgKind),
    /// The borough's first voluntary organisation (the demo VCS worker's).
    Vcs,
    Charity(&'static str),
}

/// One kind of service.
struct Kind {
    name: &'static str,
    description: &'static str,
    needs: &'static [&'static str],
    ages: (Option<i64>, Option<i64>),
    send25: bool,
    hub_offer: bool,
    start_for_life: bool,
    modes: &'static [&'static str],
    /// `BYDAY` and opening times; empty for no fixed schedule.
    days: &'static str,
    times: (&'static str, &'static str),
    /// Pence per session; none when free.
    cost: Option<i64>,
    runs: Runs,
    /// Practitioners connect families through the provider's Kindred organisation.
    connect: bool,
    /// Offered at every hub site (else once, at the first).
    every_hub: bool,
    languages: &'static [(&'static str, &'static str)],
}

const EN: (&str, &str) = ("English", "en");
const AR: (&str, &str) = ("Arabic", "ar");
const BN: (&str, &str) = ("Bengali", "bn");
const SO: (&str, &str) = ("Somali", "so");
const PT: (&str, &str) = ("Portuguese", "pt");
const ES: (&str, &str) = ("Spanish", "es");

macro_rules! kind {
    ($name:literal, $desc:literal, $needs:expr, $ages:expr, $send:literal, $hub:literal, $sfl:literal, $modes:expr,
     $days:literal, $times:expr, $cost:expr, $runs:expr, $connect:literal, $every:literal, $langs:expr) => {
        Kind {
            name: $name,
            description: $desc,
            needs: $needs,
            ages: $ages,
            send25: $send,
            hub_offer: $hub,
            start_for_life: $sfl,
            modes: $modes,
            days: $days,
            times: $times,
            cost: $cost,
            runs: $runs,
            connect: $connect,
            every_hub: $every,
            languages: $langs,
        }
    };
}

const IN: &[&str] = &["in_person"];
const NONE: (&str, &str) = ("", "");

const KINDS: &[Kind] = &[
    kind!(
        "Stay and play",
        "Songs, stories and messy play for babies and young children with their parents or carers. Just drop in.",
        &["play_and_learning", "early_development"],
        (Some(0), Some(5)),
        false,
        true,
        true,
        IN,
        "MO,WE,FR",
        ("09:30", "11:30"),
        None,
        Runs::Partner(OrgKind::FamilyHub),
        false,
        true,
        &[EN, AR, BN]
    ),
    kind!(
        "Baby massage",
        "A five-week course to help you bond with your baby, soothe them and help them sleep.",
        &["parenting_early", "play_and_learning"],
        (Some(0), Some(1)),
        false,
        true,
        true,
        IN,
        "TU",
        ("13:30", "14:30"),
        None,
        Runs::Partner(OrgKind::HealthVisiting),
        false,
        true,
        &[EN]
    ),
    kind!(
        "Baby café: breastfeeding support",
        "Peer supporters and an infant feeding specialist help with breastfeeding, expressing and bottle feeding.",
        &["infant_feeding"],
        (Some(0), Some(1)),
        false,
        true,
        true,
        IN,
        "TH",
        ("10:00", "12:00"),
        None,
        Runs::Partner(OrgKind::HealthVisiting),
        true,
        true,
        &[EN, AR, SO]
    ),
    kind!(
        "Infant feeding helpline",
        "Call an infant feeding specialist about breastfeeding, formula feeding or starting solid food.",
        &["infant_feeding"],
        (Some(0), Some(2)),
        false,
        true,
        true,
        &["telephone"],
        "MO,TU,WE,TH,FR",
        ("09:00", "17:00"),
        None,
        Runs::Partner(OrgKind::HealthVisiting),
        false,
        false,
        &[EN]
    ),
    kind!(
        "Starting solids workshop",
        "How and when to start your baby on solid food, with tasting and recipes to take home.",
        &["infant_feeding", "physical_health"],
        (Some(0), Some(1)),
        false,
        true,
        true,
        &["in_person", "online"],
        "WE",
        ("14:00", "15:30"),
        None,
        Runs::Partner(OrgKind::HealthVisiting),
        false,
        false,
        &[EN, BN]
    ),
    kind!(
        "Child health clinic",
        "Weigh your baby and talk to a health visitor about feeding, sleep, development or your own health.",
        &["physical_health", "parenting_early"],
        (Some(0), Some(5)),
        false,
        true,
        true,
        IN,
        "TU",
        ("09:30", "12:00"),
        None,
        Runs::Partner(OrgKind::HealthVisiting),
        false,
        true,
        &[EN]
    ),
    kind!(
        "Perinatal mental health group",
        "A supportive group for parents feeling anxious or low in pregnancy or after having a baby. Babies welcome.",
        &["perinatal_mental_health", "parent_mental_health"],
        (None, None),
        false,
        true,
        true,
        &["in_person", "online"],
        "WE",
        ("10:30", "12:00"),
        None,
        Runs::Partner(OrgKind::AdultMentalHealth),
        true,
        true,
        &[EN, PT]
    ),
    kind!(
        "Antenatal classes",
        "Classes for parents-to-be on labour, birth and the first weeks with your baby.",
        &["parenting_early", "physical_health"],
        (None, None),
        false,
        true,
        true,
        &["in_person", "online"],
        "SA",
        ("10:00", "13:00"),
        None,
        Runs::Partner(OrgKind::Midwifery),
        false,
        true,
        &[EN, AR]
    ),
    kind!(
        "Chatterbox: speech and language group",
        "Speech and language therapists help toddlers who are late to talk, and show parents games that help.",
        &["early_development"],
        (Some(1), Some(4)),
        false,
        true,
        true,
        IN,
        "TH",
        ("13:30", "14:30"),
        None,
        Runs::Partner(OrgKind::FamilyHub),
        false,
        true,
        &[EN]
    ),
    kind!(
        "Bookstart rhyme time",
        "Rhymes, songs and free books for babies and toddlers at the library.",
        &["early_development", "play_and_learning"],
        (Some(0), Some(4)),
        false,
        true,
        false,
        IN,
        "FR",
        ("11:00", "11:45"),
        None,
        Runs::Charity("Bookstart Libraries"),
        false,
        true,
        &[EN]
    ),
    kind!(
        "Incredible Years parenting programme",
        "A 14-week programme for parents of children aged 3 to 8 who find behaviour hard to manage.",
        &["behaviour", "parenting_early"],
        (None, None),
        false,
        true,
        false,
        &["in_person", "online"],
        "MO",
        ("10:00", "12:00"),
        None,
        Runs::Partner(OrgKind::EarlyHelp),
        true,
        false,
        &[EN, AR, SO]
    ),
    kind!(
        "Triple P for teens",
        "Practical help for parents of teenagers: conflict, risky behaviour and staying connected.",
        &["behaviour", "parental_conflict"],
        (None, None),
        false,
        true,
        false,
        &["online"],
        "TU",
        ("19:00", "20:30"),
        None,
        Runs::Partner(OrgKind::EarlyHelp),
        true,
        false,
        &[EN]
    ),
    kind!(
        "Home-Start family support",
        "A trained volunteer visits your home each week to support you with young children, whatever you are finding hard.",
        &["parenting_early", "parent_mental_health", "perinatal_mental_health"],
        (Some(0), Some(5)),
        false,
        true,
        true,
        &["outreach"],
        "",
        NONE,
        None,
        Runs::Vcs,
        true,
        false,
        &[EN, AR, BN, SO, ES]
    ),
    kind!(
        "Dads' group",
        "Saturday mornings for dads, granddads and male carers and their children: play, breakfast and a chat.",
        &["parenting_early", "play_and_learning"],
        (Some(0), Some(8)),
        false,
        true,
        true,
        IN,
        "SA",
        ("10:00", "12:00"),
        None,
        Runs::Vcs,
        true,
        true,
        &[EN]
    ),
    kind!(
        "Reducing parental conflict sessions",
        "Help for parents who argue a lot, are separating or co-parenting, so children are kept out of it.",
        &["parental_conflict"],
        (None, None),
        false,
        true,
        false,
        &["in_person", "online", "telephone"],
        "WE",
        ("18:00", "19:30"),
        None,
        Runs::Partner(OrgKind::EarlyHelp),
        true,
        false,
        &[EN]
    ),
    kind!(
        "Youth club",
        "Sport, music, cooking and a safe place to be with friends, with youth workers to talk to.",
        &["youth"],
        (Some(11), Some(18)),
        false,
        true,
        false,
        IN,
        "TU,TH",
        ("16:00", "19:00"),
        None,
        Runs::Charity("Young Westway Trust"),
        false,
        true,
        &[EN]
    ),
    kind!(
        "SEND youth club (to 25)",
        "A youth club for young people with special educational needs and disabilities, with trained staff and a quiet room.",
        &["youth", "send_support"],
        (Some(11), Some(18)),
        true,
        true,
        false,
        IN,
        "WE",
        ("17:00", "19:30"),
        Some(200),
        Runs::Charity("Kids Inclusive Play"),
        false,
        false,
        &[EN]
    ),
    kind!(
        "Supported internships (SEND, 16 to 25)",
        "Work placements with a job coach for young people with an education, health and care plan.",
        &["send_support", "worklessness"],
        (Some(16), Some(18)),
        true,
        true,
        false,
        IN,
        "MO,TU,WE",
        ("09:30", "15:00"),
        None,
        Runs::Charity("Pathways to Work"),
        false,
        false,
        &[EN]
    ),
    kind!(
        "SEND parent carer forum",
        "Meet other parents of children with SEND, and get advice on education, health and care plans.",
        &["send_support"],
        (None, None),
        false,
        true,
        false,
        &["in_person", "online"],
        "TH",
        ("10:00", "12:00"),
        None,
        Runs::Charity("Parent Carer Forum"),
        false,
        true,
        &[EN, AR]
    ),
    kind!(
        "School attendance support",
        "Family workers who help when a child is struggling to go to school.",
        &["school_attendance", "child_mental_health"],
        (Some(5), Some(16)),
        false,
        true,
        false,
        &["outreach", "telephone"],
        "",
        NONE,
        None,
        Runs::Partner(OrgKind::EarlyHelp),
        true,
        false,
        &[EN]
    ),
    kind!(
        "Young people's wellbeing drop-in",
        "Talk to a mental health worker about feeling anxious, low or stressed. No referral needed.",
        &["child_mental_health"],
        (Some(11), Some(18)),
        true,
        true,
        false,
        &["in_person", "online"],
        "WE",
        ("15:30", "18:00"),
        None,
        Runs::Partner(OrgKind::Camhs),
        true,
        false,
        &[EN]
    ),
    kind!(
        "Young carers project",
        "Breaks, activities and someone to talk to for children who look after someone at home.",
        &["young_carer"],
        (Some(8), Some(18)),
        false,
        true,
        false,
        IN,
        "MO",
        ("16:00", "18:00"),
        None,
        Runs::Charity("Carers Network"),
        false,
        false,
        &[EN]
    ),
    kind!(
        "Debt and benefits advice",
        "Free, confidential advice on debt, benefits, budgeting and help with the cost of living.",
        &["debt"],
        (None, None),
        false,
        true,
        false,
        &["in_person", "telephone"],
        "TU,TH",
        ("10:00", "16:00"),
        None,
        Runs::Charity("Citizens Advice"),
        false,
        true,
        &[EN, AR, BN, PT]
    ),
    kind!(
        "Food bank and advice",
        "Emergency food, toiletries and baby essentials, with advice on money and benefits.",
        &["debt"],
        (None, None),
        false,
        true,
        false,
        IN,
        "WE,SA",
        ("11:00", "14:00"),
        None,
        Runs::Vcs,
        true,
        true,
        &[EN, AR, SO]
    ),
    kind!(
        "Housing advice",
        "Advice if you are worried about losing your home, your tenancy, or the condition of your home.",
        &["housing"],
        (None, None),
        false,
        true,
        false,
        &["in_person", "telephone"],
        "MO,WE,FR",
        ("09:00", "17:00"),
        None,
        Runs::Partner(OrgKind::Housing),
        true,
        true,
        &[EN]
    ),
    kind!(
        "Domestic abuse support",
        "Confidential support, safety planning and advocacy for anyone affected by domestic abuse.",
        &["domestic_abuse"],
        (None, None),
        false,
        true,
        false,
        &["telephone", "outreach"],
        "MO,TU,WE,TH,FR",
        ("09:00", "17:00"),
        None,
        Runs::Charity("Advance"),
        false,
        false,
        &[EN, AR, ES, PT]
    ),
    kind!(
        "Freedom Programme",
        "A 12-week group for women to understand domestic abuse and its effects on children.",
        &["domestic_abuse"],
        (Some(18), None),
        false,
        true,
        false,
        IN,
        "TH",
        ("10:00", "12:30"),
        None,
        Runs::Charity("Advance"),
        false,
        false,
        &[EN]
    ),
    kind!(
        "Drug and alcohol family service",
        "Support for parents who use drugs or alcohol, and for family members affected.",
        &["substance_use"],
        (Some(18), None),
        false,
        true,
        false,
        &["in_person", "telephone"],
        "TU",
        ("10:00", "16:00"),
        None,
        Runs::Charity("Change, Grow, Live"),
        false,
        false,
        &[EN]
    ),
    kind!(
        "Employment and skills coaching",
        "One-to-one coaching to find work, training or a course, including ESOL English classes.",
        &["worklessness"],
        (Some(16), None),
        false,
        true,
        false,
        &["in_person", "online"],
        "WE",
        ("10:00", "15:00"),
        None,
        Runs::Charity("Skills for Life"),
        false,
        true,
        &[EN, AR, BN, SO]
    ),
    kind!(
        "Baby and toddler swim",
        "Splash sessions for parents and under-fives at the leisure centre.",
        &["play_and_learning", "physical_health"],
        (Some(0), Some(4)),
        false,
        false,
        false,
        IN,
        "SU",
        ("09:00", "10:00"),
        Some(450),
        Runs::Charity("Better Leisure"),
        false,
        false,
        &[EN]
    ),
    kind!(
        "Messy art club",
        "Paint, glue and clay for little ones. A small charge covers materials.",
        &["play_and_learning", "early_development"],
        (Some(1), Some(5)),
        false,
        true,
        false,
        IN,
        "TU",
        ("10:00", "11:00"),
        Some(150),
        Runs::Partner(OrgKind::FamilyHub),
        false,
        true,
        &[EN]
    ),
];

/// What the seed made, for the summary.
pub struct Seeded {
    pub services: usize,
    pub connections: usize,
}

/// The borough's directory and its connection requests.
pub async fn seed(
    db: &Db,
    p: &Partnership,
    known: &[Known],
    rng: &mut ChaCha8Rng,
    today: Date,
) -> anyhow::Result<Seeded> {
    let t = p.tenant_id;
    let orgs = db.organisations(t).await?;
    let hubs = db.hub_sites(t).await?;
    let terms = db.needs_terms().await?;
    let tenant = db.tenant(t).await?;
    let short = tenant
        .name
        .replace("Royal Borough of ", "")
        .replace(" City Council", "");
    let domain = tenant.code.clone();
    // Directory organisations: one per partner kind used, one per charity.
    let mut dir_orgs: Vec<(String, i64, Option<i64>)> = vec![];
    let mut locations = vec![];
    for (i, h) in hubs.iter().enumerate() {
        let id = db
            .create_location(&LocationData {
                tenant_id: t,
                name: h.name.clone(),
                description: format!("{short}'s family hub"),
                address_1: Some(format!(
                    "{} {} Street",
                    10 + i * 7,
                    h.name.split(' ').next().unwrap_or("Hub")
                )),
                city: Some("London".into()),
                postcode: h.postcode.clone(),
                latitude: Some(51.52 - 0.01 * i as f64),
                longitude: Some(-0.18 + 0.01 * i as f64),
                hub_site_id: Some(h.id),
            })
            .await?;
        locations.push((id, h.name.clone(), h.reach_areas.clone()));
    }
    // Two community venues, serving the first hub's area.
    for (venue, street) in [("Central Library", "Library Road"), ("Leisure Centre", "Park Lane")] {
        let first = hubs.first();
        let id = db
            .create_location(&LocationData {
                tenant_id: t,
                name: format!("{short} {venue}"),
                description: String::new(),
                address_1: Some(format!("1 {street}")),
                city: Some("London".into()),
                postcode: first.and_then(|h| h.postcode.clone()),
                latitude: None,
                longitude: None,
                hub_site_id: None,
            })
            .await?;
        locations.push((
            id,
            format!("{short} {venue}"),
            first.map(|h| h.reach_areas.clone()).unwrap_or_default(),
        ));
    }
    let mut services = 0;
    for k in KINDS {
        let (org_name, partner) = match k.runs {
            Runs::Partner(kind) => match p.orgs.get(&kind).and_then(|v| v.first()) {
                Some(id) => (
                    orgs.iter()
                        .find(|o| o.id == *id)
                        .map(|o| o.name.clone())
                        .unwrap_or_default(),
                    Some(*id),
                ),
                None => continue,
            },
            Runs::Vcs => match p.orgs.get(&OrgKind::Vcs).and_then(|v| v.first()) {
                Some(id) => (
                    orgs.iter()
                        .find(|o| o.id == *id)
                        .map(|o| o.name.clone())
                        .unwrap_or_default(),
                    Some(*id),
                ),
                None => continue,
            },
            Runs::Charity(name) => (format!("{name} {short}"), None),
        };
        let name = org_name;
        let org_id = match dir_orgs.iter().find(|o| o.0 == name).map(|o| o.1) {
            Some(id) => id,
            None => {
                let id = db
                    .create_dir_organisation(&OrganisationData {
                        tenant_id: t,
                        organisation_id: partner,
                        name: name.clone(),
                        description: format!("{name} runs services for families in {short}."),
                        email: Some(format!("hello@{}.example.org", slug(&name))),
                        website: Some(format!("https://{}.example.org", slug(&name))),
                    })
                    .await?;
                dir_orgs.push((name.clone(), id, partner));
                id
            }
        };
        let at: Vec<&(i64, String, Vec<String>)> = if k.every_hub {
            locations.iter().collect()
        } else {
            locations.iter().take(1).collect()
        };
        for (location, place, reach) in at.iter().map(|x| (x.0, &x.1, &x.2)) {
            let in_person = k.modes.contains(&"in_person");
            let name = if k.every_hub && at.len() > 1 {
                format!(
                    "{}, {}",
                    k.name,
                    place.replace(" Family Hub", "").replace(&format!("{short} "), "")
                )
            } else {
                k.name.to_string()
            };
            let phone = format!("020 7946 {:04}", rng.gen_range(0..1000));
            let data = ServiceData {
                tenant_id: t,
                dir_organisation_id: org_id,
                name,
                description: k.description.to_string(),
                url: Some(format!("https://{}.example.org/{}", slug(&short), slug(k.name))),
                email: Some(format!("{}@{domain}.example.org", slug(k.name))),
                status: "active".into(),
                fees_description: k
                    .cost
                    .map(|_| "Ask about free places for families on a low income".into()),
                minimum_age: k.ages.0,
                maximum_age: k.ages.1,
                send_up_to_25: k.send25,
                family_hub_offer: k.hub_offer,
                start_for_life: k.start_for_life,
                connect_organisation_id: if k.connect { partner } else { None },
                location_ids: if in_person || k.every_hub {
                    vec![location]
                } else {
                    vec![]
                },
                schedules: if k.days.is_empty() {
                    vec![]
                } else {
                    vec![ScheduleData {
                        location_id: in_person.then_some(location),
                        freq: "WEEKLY".into(),
                        byday: k.days.into(),
                        opens_at: Some(k.times.0.into()).filter(|s: &String| !s.is_empty()),
                        closes_at: Some(k.times.1.into()).filter(|s: &String| !s.is_empty()),
                        description: if k.days.contains("SA") || k.days.contains("SU") {
                            String::new()
                        } else {
                            "Term time and holidays".into()
                        },
                        valid_from: None,
                        valid_to: None,
                    }]
                },
                costs: vec![CostData {
                    option: "Session".into(),
                    amount: k.cost,
                    amount_description: if k.cost.is_some() {
                        "per session".into()
                    } else {
                        "Free".into()
                    },
                }],
                languages: k
                    .languages
                    .iter()
                    .map(|(name, code)| LanguageData {
                        name: (*name).into(),
                        code: (*code).into(),
                    })
                    .collect(),
                contacts: vec![ContactData {
                    name: "Duty worker".into(),
                    title: format!("{} team", k.name),
                    phone: Some(phone),
                    email: Some(format!("{}@{domain}.example.org", slug(k.name))),
                }],
                modes: k.modes.iter().map(|m| m.to_string()).collect(),
                // Services at a hub serve its reach; outreach and phone lines the whole borough.
                areas: if in_person && k.every_hub {
                    reach
                        .iter()
                        .map(|a| a.split(' ').next().unwrap_or(a).to_string())
                        .collect()
                } else {
                    vec![]
                },
                term_ids: k
                    .needs
                    .iter()
                    .filter_map(|c| terms.iter().find(|t| t.code == *c).map(|t| t.id))
                    .collect(),
                last_modified_ms: None,
            };
            db.create_service(&data).await?;
            services += 1;
        }
    }
    let connections = connections(db, p, known, rng, today).await?;
    Ok(Seeded { services, connections })
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Requests from the demo health visitor and early help worker to the
/// services of the borough's first voluntary organisation, one in each
/// status, and a few to other partners.
async fn connections(
    db: &Db,
    p: &Partnership,
    known: &[Known],
    rng: &mut ChaCha8Rng,
    today: Date,
) -> anyhow::Result<usize> {
    let filter = ServiceFilter {
        tenant_id: Some(p.tenant_id),
        connectable: true,
        active_only: true,
        ..Default::default()
    };
    let (_, services) = db.directory_services_page(&filter, 1, 1000).await?;
    let vcs = p.orgs.get(&OrgKind::Vcs).and_then(|v| v.first()).copied();
    let to_vcs: Vec<_> = services.iter().filter(|s| s.connect_organisation_id == vcs).collect();
    let others: Vec<_> = services.iter().filter(|s| s.connect_organisation_id != vcs).collect();
    let vcs_user = p.named.get("vcs").copied();
    let mut made = 0;
    for (sender_name, statuses) in [
        ("hv", &["sent", "opened", "accepted", "declined", "completed"][..]),
        ("earlyhelp", &["sent", "accepted", "declined", "opened"][..]),
    ] {
        let Some(&sender) = p.named.get(sender_name) else {
            continue;
        };
        let user = db.user(sender).await?;
        let subject = user.subject();
        // Families the sender works with, where the family has a parent to consent.
        let ids: Vec<i64> = known.iter().take(400).map(|k| k.family_id).collect();
        let facts = db.family_facts_many(&ids).await?;
        let mut theirs: Vec<&Known> = known
            .iter()
            .take(400)
            .filter(|k| {
                facts
                    .get(&k.family_id)
                    .is_some_and(|f| access::family(&subject, f, FamilyAction::Edit).allowed())
                    && k.members.iter().any(|m| m.age >= 18)
            })
            .collect();
        theirs.shuffle(rng);
        for (i, status) in statuses.iter().enumerate() {
            let Some(k) = theirs.get(i) else {
                break;
            };
            let pool = if vcs_user.is_some() && !to_vcs.is_empty() {
                &to_vcs
            } else {
                &others
            };
            let Some(service) = pool.get(rng.gen_range(0..pool.len().max(1))).or(others.first()) else {
                break;
            };
            let Some(receiving) = service.connect_organisation_id else {
                continue;
            };
            let parent = k
                .members
                .iter()
                .find(|m| m.age >= 18)
                .map(|m| m.id)
                .unwrap_or(k.members[0].id);
            let child = k.members.iter().find(|m| m.age < 18).map(|m| m.id);
            let id = db
                .create_connection(&NewConnection {
                    tenant_id: p.tenant_id,
                    family_id: k.family_id,
                    service_id: service.id,
                    receiving_organisation_id: receiving,
                    sender_user_id: sender,
                    sender_organisation_id: user.organisation_id,
                    request_text: format!(
                        "The family would like to join {}. Mum is keen; mornings suit best. Please call her on the number on the family record.",
                        service.name
                    ),
                    person_ids: [Some(parent), child].into_iter().flatten().collect(),
                    consent_person_id: parent,
                    consent_on: today - time::Duration::days(rng.gen_range(0..14)),
                    consent_how: ["verbal", "written", "digital"][i % 3].into(),
                })
                .await?;
            made += 1;
            // Answered by a worker of the receiving organisation.
            let answerer = if Some(receiving) == vcs {
                vcs_user
            } else {
                p.workers.get(&receiving).and_then(|w| w.first()).copied()
            };
            let Some(by) = answerer else {
                continue;
            };
            let path: &[(&str, &str, Option<&str>)] = match *status {
                "opened" => &[("sent", "opened", None)],
                "accepted" => &[("sent", "opened", None), ("opened", "accepted", None)],
                "declined" => &[
                    ("sent", "opened", None),
                    (
                        "opened",
                        "declined",
                        Some("The group is full this term; we have added the family to the waiting list."),
                    ),
                ],
                "completed" => &[
                    ("sent", "opened", None),
                    ("opened", "accepted", None),
                    ("accepted", "completed", None),
                ],
                _ => &[],
            };
            for (from, to, reason) in path {
                db.set_connection_status(id, from, to, by, *reason, today).await?;
            }
            if let Some(last) = path.last() {
                db.notify_connection(
                    sender,
                    id,
                    &format!("Connection request C{id} to {}: {}.", service.name, last.1),
                )
                .await?;
            }
            if *status == "sent" {
                for u in db.connection_recipients(receiving).await? {
                    db.notify_connection(u.0, id, &format!("New connection request C{id} for {}.", service.name))
                        .await?;
                }
            }
        }
    }
    Ok(made)
}

/// Services a voluntary organisation's own case system published through the
/// JSON API (`POST /api/v1/directory/services`): stored as the API stores
/// them, under the system's source and its own ids, so the public directory
/// shows them as listed by that system.
pub async fn published_by_partner_system(
    db: &Db,
    client: &kindred_store::api_clients::ApiClient,
) -> anyhow::Result<usize> {
    use kindred_domain::directory::partner_system_source;
    let t = client.tenant_id;
    let source = db
        .upsert_directory_source(
            t,
            &format!("{} (partner system)", client.organisation_name),
            &partner_system_source(client.user_id),
        )
        .await?;
    let existing = db
        .dir_organisations(t)
        .await?
        .into_iter()
        .find(|o| o.organisation_id == Some(client.organisation_id));
    let org_id = match existing {
        Some(o) => o.id,
        None => {
            db.create_dir_organisation(&OrganisationData {
                tenant_id: t,
                organisation_id: Some(client.organisation_id),
                name: client.organisation_name.clone(),
                description: String::new(),
                email: None,
                website: None,
            })
            .await?
        }
    };
    let location = db
        .upsert_location(
            source,
            "location:PADD-CENTRE",
            &LocationData {
                tenant_id: t,
                name: "Paddington community centre".into(),
                address_1: Some("12 Example Street".into()),
                city: Some("London".into()),
                postcode: Some("W2 1AA".into()),
                ..Default::default()
            },
        )
        .await?;
    let terms = db.needs_terms().await?;
    let term = |code: &str| terms.iter().find(|x| x.code == code).map(|x| x.id);
    // Published a few days ago, as a nightly sync would have.
    let modified = kindred_store::now_ms() - 3 * 86_400_000;
    type Published<'a> = (
        &'a str,
        &'a str,
        &'a str,
        &'a [&'a str],
        (Option<i64>, Option<i64>),
        &'a str,
    );
    let list: [Published; 3] = [
        (
            "FA-SVC-001",
            "Dads' group",
            "A weekly group for fathers and male carers of children under five: play, peer support and advice on being a dad.",
            &["parenting_early", "parent_mental_health"],
            (Some(0), Some(5)),
            "SA",
        ),
        (
            "FA-SVC-002",
            "Family debt and benefits clinic",
            "One-to-one appointments on debt, benefits checks, cost of living grants and budgeting, with an interpreter when needed.",
            &["debt"],
            (None, None),
            "TU,TH",
        ),
        (
            "FA-SVC-003",
            "Young carers' club",
            "A fortnightly club for young carers aged 8 to 18, with trips in the holidays and a quiet place to do homework.",
            &["young_carer"],
            (Some(8), Some(18)),
            "WE",
        ),
    ];
    for (external_id, name, description, needs, ages, days) in list {
        let data = ServiceData {
            tenant_id: t,
            dir_organisation_id: org_id,
            name: name.into(),
            description: description.into(),
            email: Some("services@family-charity.example.org".into()),
            status: "active".into(),
            minimum_age: ages.0,
            maximum_age: ages.1,
            connect_organisation_id: Some(client.organisation_id),
            location_ids: vec![location],
            schedules: vec![ScheduleData {
                freq: "WEEKLY".into(),
                byday: days.into(),
                opens_at: Some("10:00".into()),
                closes_at: Some("12:00".into()),
                ..Default::default()
            }],
            costs: vec![CostData {
                option: "Session".into(),
                amount: None,
                amount_description: "Free".into(),
            }],
            languages: vec![LanguageData {
                name: "English".into(),
                code: "en".into(),
            }],
            contacts: vec![ContactData {
                name: "Services team".into(),
                title: String::new(),
                phone: Some("020 7946 0550".into()),
                email: None,
            }],
            modes: vec!["in_person".into()],
            areas: vec!["W2".into(), "W9".into(), "NW8".into()],
            term_ids: needs.iter().filter_map(|c| term(c)).collect(),
            last_modified_ms: Some(modified),
            ..Default::default()
        };
        db.upsert_service(source, external_id, &data).await?;
    }
    Ok(list.len())
}
