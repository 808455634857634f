//! `kindred demo`: a deterministic synthetic partnership of two boroughs
//! working as a bi-borough, with their partner organisations, workers and
//! families of realistic shapes.
//!
//! The same seed and the same day give the same data. Ages are anchored on
//! today so that babies are still due and toddlers still toddlers. NHS
//! numbers come only from the never-issued 999 range; names are synthetic.

use std::collections::{BTreeMap, HashSet};

use anyhow::Context;
use kindred_domain::NhsNumber;
use kindred_domain::model::{OrgKind, Profession, Role, Upn};
use kindred_domain::postcode::Postcode;
use kindred_domain::referral::DueRule;
use kindred_store::Db;
use kindred_store::bulk::{AddressRow, Batch, FamilyRow, MaxIds, PersonRow};
use kindred_store::users::NewUser;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::{Date, Duration};

mod casework;
mod consent;
mod development;
mod directory;
mod early_identification;
mod feeds;
pub mod glass;
mod names;
pub mod outcomes;
mod plans;
mod reports;
mod restricted;
mod retention;
mod transitions;
mod transparency;

/// Every demo sign-in uses this password. Only `kindred demo` creates accounts with it.
pub const DEMO_PASSWORD: &str = "kindred-demo-2026";

#[derive(Debug, Clone)]
pub struct Options {
    pub families: u32,
    pub seed: u64,
    /// The share of families, in percent, with a referral waiting in the triage queue.
    pub open_referral_percent: f64,
    /// Build the casework too (referrals' showcase, plans, feeds, outcomes,
    /// reports, directory). Off for benchmark databases that need only
    /// families, their people and the partner systems (a million persons).
    pub casework: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            families: 5_000,
            seed: 42,
            open_referral_percent: 3.0,
            casework: true,
        }
    }
}

/// Every demo partner system uses this client secret. Only `kindred demo`
/// registers systems with it; a real system's secret is random and shown once.
pub const DEMO_CLIENT_SECRET: &str = "kindred-demo-client-secret-2026";

/// A partner system registered by the demo (issue 8: FHIR and the JSON API).
#[derive(Debug, Clone)]
pub struct DemoClient {
    pub tenant: &'static str,
    pub organisation_kind: OrgKind,
    pub name: &'static str,
    pub client_id: &'static str,
}

/// One health visiting record system in each borough: it sees the families
/// its health visiting service works with, as its health visitors do. And
/// the Westminster voluntary organisation's case system, which has published
/// its own services into the directory through the JSON API.
pub const DEMO_CLIENTS: &[DemoClient] = &[
    DemoClient {
        tenant: "westminster",
        organisation_kind: OrgKind::HealthVisiting,
        name: "Westminster health visiting record system",
        client_id: "demo-hv-westminster",
    },
    DemoClient {
        tenant: "rbkc",
        organisation_kind: OrgKind::HealthVisiting,
        name: "Kensington and Chelsea health visiting record system",
        client_id: "demo-hv-rbkc",
    },
    DemoClient {
        tenant: "westminster",
        organisation_kind: OrgKind::Vcs,
        name: "Westminster voluntary sector case system",
        client_id: "demo-vcs-westminster",
    },
];

#[derive(Debug, Clone)]
pub struct SignIn {
    pub role: &'static str,
    pub email: &'static str,
}

/// The demo users, each seeing a different slice of the partnership.
pub const SIGN_INS: &[SignIn] = &[
    SignIn {
        role: "health visitor",
        email: "hv@westminster.example",
    },
    SignIn {
        role: "school nurse",
        email: "schoolnurse@westminster.example",
    },
    SignIn {
        role: "social worker",
        email: "socialworker@westminster.example",
    },
    SignIn {
        role: "early help worker",
        email: "earlyhelp@westminster.example",
    },
    SignIn {
        role: "triage officer",
        email: "triage@westminster.example",
    },
    SignIn {
        role: "VCS worker",
        email: "vcs@westminster.example",
    },
    SignIn {
        role: "manager",
        email: "manager@westminster.example",
    },
    SignIn {
        role: "administrator",
        email: "admin@westminster.example",
    },
    SignIn {
        role: "privacy officer",
        email: "privacy@westminster.example",
    },
    SignIn {
        role: "data officer",
        email: "data@westminster.example",
    },
    SignIn {
        role: "analyst (reports: figures only)",
        email: "analyst@westminster.example",
    },
    SignIn {
        role: "analyst (Kensington and Chelsea)",
        email: "analyst@rbkc.example",
    },
    SignIn {
        role: "health visitor (Kensington and Chelsea)",
        email: "hv@rbkc.example",
    },
    SignIn {
        role: "early help worker (Kensington and Chelsea, bi-borough team)",
        email: consent::BI_BOROUGH_EMAIL,
    },
];

struct Borough {
    code: &'static str,
    name: &'static str,
    short: &'static str,
    la_code: u32,
    /// (hub name, reach areas)
    hubs: &'static [(&'static str, &'static [&'static str])],
    /// (ward name, postcode districts and sectors): a sector is matched before a district.
    wards: &'static [(&'static str, &'static [&'static str])],
    schools: [&'static str; 3],
    gps: [&'static str; 2],
    maternity: &'static str,
}

const BOROUGHS: [Borough; 2] = [
    Borough {
        code: "westminster",
        name: "Westminster City Council",
        short: "Westminster",
        la_code: 213,
        hubs: &[
            ("Church Street Family Hub", &["NW8", "NW1"]),
            ("Queen's Park Family Hub", &["W9"]),
            ("Bayswater Family Hub", &["W2", "W1", "SW1"]),
        ],
        wards: &[
            ("Abbey Road", &["NW8"]),
            ("Regent's Park", &["NW1"]),
            ("Queen's Park", &["W9 1", "W9 2", "W9 3"]),
            ("Maida Vale", &["W9"]),
            ("Westbourne", &["W2 5", "W2 6"]),
            ("Bayswater", &["W2"]),
            ("West End", &["W1", "SW1"]),
        ],
        schools: [
            "Church Street Primary School",
            "Maida Vale Academy",
            "Westbourne High School",
        ],
        gps: ["Lisson Grove Health Centre", "Maida Vale Medical Practice"],
        maternity: "St Mary's Maternity Service",
    },
    Borough {
        code: "rbkc",
        name: "Royal Borough of Kensington and Chelsea",
        short: "Kensington and Chelsea",
        la_code: 207,
        hubs: &[
            ("North Kensington Family Hub", &["W10", "W11"]),
            ("South Kensington Family Hub", &["SW3", "SW5", "SW10", "W8", "W14"]),
        ],
        wards: &[
            ("Golborne", &["W10 5", "W10 6"]),
            ("Notting Dale", &["W10", "W11 4"]),
            ("Pembridge", &["W11"]),
            ("Earl's Court", &["SW5", "W14"]),
            ("Chelsea Riverside", &["SW10", "SW3"]),
            ("Campden", &["W8"]),
        ],
        schools: [
            "Golborne Primary School",
            "Notting Dale Academy",
            "Earls Court High School",
        ],
        gps: ["Golborne Medical Centre", "Earls Court Surgery"],
        maternity: "Chelsea Maternity Service",
    },
];

/// One organisation of a borough, its workers' profession and how many there are.
struct OrgPlan {
    name: String,
    kind: OrgKind,
    profession: Profession,
    workers: usize,
}

fn org_plans(b: &Borough) -> Vec<OrgPlan> {
    let s = b.short;
    let mut v = vec![
        OrgPlan {
            name: format!("{s} Family Hubs"),
            kind: OrgKind::FamilyHub,
            profession: Profession::FamilyNavigator,
            workers: 4,
        },
        OrgPlan {
            name: format!("{s} Early Help"),
            kind: OrgKind::EarlyHelp,
            profession: Profession::EarlyHelpWorker,
            workers: 10,
        },
        OrgPlan {
            name: format!("{s} Children's Social Care"),
            kind: OrgKind::ChildrensSocialCare,
            profession: Profession::SocialWorker,
            workers: 10,
        },
        OrgPlan {
            name: format!("{s} Health Visiting"),
            kind: OrgKind::HealthVisiting,
            profession: Profession::HealthVisitor,
            workers: 12,
        },
        OrgPlan {
            name: b.maternity.to_string(),
            kind: OrgKind::Midwifery,
            profession: Profession::Midwife,
            workers: 5,
        },
        OrgPlan {
            name: format!("{s} School Nursing"),
            kind: OrgKind::SchoolNursing,
            profession: Profession::SchoolNurse,
            workers: 4,
        },
    ];
    for (i, school) in b.schools.iter().enumerate() {
        let profession = if i == 0 { Profession::Senco } else { Profession::Teacher };
        v.push(OrgPlan {
            name: school.to_string(),
            kind: OrgKind::School,
            profession,
            workers: 2,
        });
    }
    for gp in b.gps {
        v.push(OrgPlan {
            name: gp.to_string(),
            kind: OrgKind::GpPractice,
            profession: Profession::GpStaff,
            workers: 2,
        });
    }
    v.extend([
        OrgPlan {
            name: format!("{s} CAMHS"),
            kind: OrgKind::Camhs,
            profession: Profession::CamhsClinician,
            workers: 3,
        },
        OrgPlan {
            name: format!("{s} Community Mental Health Team"),
            kind: OrgKind::AdultMentalHealth,
            profession: Profession::MentalHealthPractitioner,
            workers: 3,
        },
        OrgPlan {
            name: format!("{s} Adult Social Care"),
            kind: OrgKind::AdultSocialCare,
            profession: Profession::AdultSocialCareWorker,
            workers: 2,
        },
        OrgPlan {
            name: format!("{s} Housing Options"),
            kind: OrgKind::Housing,
            profession: Profession::HousingOfficer,
            workers: 3,
        },
        OrgPlan {
            name: format!("Met Police Central West ({s})"),
            kind: OrgKind::Police,
            profession: Profession::PoliceOfficer,
            workers: 2,
        },
        OrgPlan {
            name: format!("Home-Start {s}"),
            kind: OrgKind::Vcs,
            profession: Profession::VcsWorker,
            workers: 2,
        },
        OrgPlan {
            name: format!("{s} Food Bank and Advice"),
            kind: OrgKind::Vcs,
            profession: Profession::VcsWorker,
            workers: 2,
        },
        OrgPlan {
            name: format!("Dad Matters {s}"),
            kind: OrgKind::Vcs,
            profession: Profession::VcsWorker,
            workers: 2,
        },
    ]);
    v
}

/// What the family generator needs to know about one borough's partnership.
struct Partnership {
    tenant_id: i64,
    code: &'static str,
    la_code: u32,
    districts: Vec<&'static str>,
    /// Hub sites and the postcode districts each reaches.
    hubs: Vec<(i64, &'static [&'static str])>,
    /// When the tenant's referrals are due.
    rule: DueRule,
    /// Every worker's display name, by user id.
    names: BTreeMap<i64, String>,
    /// The organisation of each worker.
    org_of: BTreeMap<i64, i64>,
    /// The named demo accounts (`hv`, `triage`, …) by the local part of their email.
    named: BTreeMap<&'static str, i64>,
    /// Organisation ids by kind (several for schools, GPs, VCS).
    orgs: BTreeMap<OrgKind, Vec<i64>>,
    /// Practitioner user ids by organisation.
    workers: BTreeMap<i64, Vec<i64>>,
}

/// Builds the partnership into an empty database. Returns `None` (and does
/// nothing) if the database already holds a partnership.
pub async fn build(db: &Db, opts: &Options, progress: &(dyn Fn(u64, u64) + Sync)) -> anyhow::Result<Option<Summary>> {
    if !db.tenants().await?.is_empty() {
        return Ok(None);
    }
    let mut stages = Stages::new();
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let demo_hash = kindred_web::passwords::hash(DEMO_PASSWORD);
    // Other workers exist to fill teams; nobody knows their password.
    let locked_hash = kindred_web::passwords::hash(&kindred_web::passwords::random_token());
    let mut partnerships = vec![];
    for b in &BOROUGHS {
        partnerships.push(build_borough(db, b, &mut rng, &demo_hash, &locked_hash).await?);
    }
    let today = kindred_store::today();
    let now_ms = kindred_store::now_ms();
    let mut nhs_used = HashSet::new();
    let mut ids = db.max_ids().await?;
    let mut known: Vec<Vec<casework::Known>> = partnerships.iter().map(|_| vec![]).collect();
    let mut summary = Summary::default();
    // Each borough's family of eight with 500 contacts this year: the 360° profile at its fullest.
    let mut batch = Batch::default();
    for (i, p) in partnerships.iter().enumerate() {
        let mut g = FamilyGen {
            rng: &mut rng,
            today,
            batch: &mut batch,
            nhs_used: &mut nhs_used,
            p,
            child_cap: 99,
            ids: &mut ids,
            now_ms,
            open_rate: 0.0,
            known: &mut known[i],
        };
        g.ids.family += 1;
        let id = g.ids.family;
        g.large_family(id, 500, 0);
        summary.large_families.push((p.code, id));
    }
    // The busiest family: ten members and 2,000 contacts this year, for the family page's figure.
    {
        let mut g = FamilyGen {
            rng: &mut rng,
            today,
            batch: &mut batch,
            nhs_used: &mut nhs_used,
            p: &partnerships[0],
            child_cap: 99,
            ids: &mut ids,
            now_ms,
            open_rate: 0.0,
            known: &mut known[0],
        };
        g.ids.family += 1;
        let id = g.ids.family;
        g.large_family(id, 2_000, 2);
        summary.busiest_family = Some((partnerships[0].code, id));
    }
    db.bulk_insert(&batch)
        .await
        .context("loading the large demo families")?;
    let total = opts.families as u64;
    let mut done = 0u64;
    let open_rate = (opts.open_referral_percent / 100.0).clamp(0.0, 1.0);
    while done < total {
        let n = (total - done).min(2_000);
        let mut batch = Batch::default();
        for i in 0..n {
            // Three families in five live in Westminster.
            let which = if (done + i) % 5 < 3 { 0 } else { 1 };
            let mut g = FamilyGen {
                rng: &mut rng,
                today,
                batch: &mut batch,
                nhs_used: &mut nhs_used,
                p: &partnerships[which],
                child_cap: 99,
                ids: &mut ids,
                now_ms,
                open_rate,
                known: &mut known[which],
            };
            g.ids.family += 1;
            let id = g.ids.family;
            g.family(id);
        }
        summary.open_referrals += batch.referrals.iter().filter(|r| r.decision.is_none()).count() as u64;
        summary.contacts += batch.contacts.len() as u64;
        db.bulk_insert(&batch).await.context("loading demo families")?;
        done += n;
        progress(done, total);
    }
    db.reset_id_sequences().await?;
    stages.lap("families");
    if opts.casework {
        // The casework and the feeds' matcher query what was just loaded:
        // give the planner its size first (the migrations measured empty
        // tables).
        db.analyze().await?;
        stages.lap("analyze families");
        casework_and_services(
            db,
            opts,
            &partnerships,
            &known,
            &mut rng,
            &mut ids,
            &mut nhs_used,
            &mut summary,
            &mut stages,
        )
        .await?;
    }
    partner_systems(db, &partnerships, opts.casework).await?;
    stages.lap("partner systems");
    db.analyze().await?;
    stages.lap("analyze");
    summary.stages = stages.done;
    Ok(Some(summary))
}

/// Seconds spent on each stage of the build, for `kindred demo` to report.
struct Stages {
    last: std::time::Instant,
    done: Vec<(&'static str, f64)>,
}

impl Stages {
    fn new() -> Self {
        Stages {
            last: std::time::Instant::now(),
            done: vec![],
        }
    }

    fn lap(&mut self, stage: &'static str) {
        let now = std::time::Instant::now();
        self.done.push((stage, (now - self.last).as_secs_f64()));
        self.last = now;
    }
}

/// Everything after the families: the showcase casework, plans, feeds,
/// outcomes, reports and the service directory.
#[allow(clippy::too_many_arguments)]
async fn casework_and_services(
    db: &Db,
    opts: &Options,
    partnerships: &[Partnership],
    known: &[Vec<casework::Known>],
    rng: &mut ChaCha8Rng,
    ids: &mut kindred_store::bulk::MaxIds,
    nhs_used: &mut HashSet<String>,
    summary: &mut Summary,
    stages: &mut Stages,
) -> anyhow::Result<()> {
    let today = kindred_store::today();
    for (p, known) in partnerships.iter().zip(known) {
        summary.open_referrals += casework::showcase(db, p, known, rng, ids).await?;
    }
    for ((p, known), (_, large)) in partnerships.iter().zip(known).zip(&summary.large_families) {
        development::seed(db, p, *large, known, rng)
            .await
            .context("child development and early help in the demo")?;
    }
    stages.lap("showcase casework");
    db.reset_id_sequences().await?;
    // Westminster asks families one area of its own in the family-led assessment.
    db.save_assessment_areas(
        partnerships[0].tenant_id,
        &[kindred_domain::assessment::TenantArea {
            code: "own_1".into(),
            question: "Our faith and our community".into(),
            asked: true,
        }],
    )
    .await?;
    // Family plans: the large families' with a portal invitation, and a few more.
    for ((p, known), (_, large)) in partnerships.iter().zip(known).zip(summary.large_families.clone()) {
        if let Some(code) = plans::plan_for(db, p.tenant_id, large, 0, true).await? {
            summary.portal_codes.push((large, code));
        }
        for (n, k) in known.iter().skip(10).take(12).enumerate() {
            plans::plan_for(db, p.tenant_id, k.family_id, n + 1, false).await?;
        }
        if let Some(triage) = p.named.get("triage").copied() {
            let candidates: Vec<i64> = known.iter().skip(40).take(60).map(|k| k.family_id).collect();
            if let Some(id) = plans::needs_add_up_family(db, p.tenant_id, &candidates, triage).await? {
                summary.needs_add_up.push((p.code, id));
            }
        }
    }
    // Young people approaching 18, some with their transition-plan tasks.
    for p in partnerships {
        transitions::seed(db, p, today)
            .await
            .context("transitions in the demo")?;
    }
    for p in partnerships {
        restricted::seed(db, p, today)
            .await
            .context("restricted persons and flags in the demo")?;
    }
    // Break-glass: a sealed family, uses to review, one active now, a safeguarding
    // override; never on the showcase families the benchmarks and journeys use.
    let showcase: Vec<i64> = summary
        .large_families
        .iter()
        .chain(&summary.needs_add_up)
        .chain(&summary.busiest_family)
        .map(|(_, id)| *id)
        .chain(summary.portal_codes.iter().map(|(id, _)| *id))
        .collect();
    for p in partnerships {
        summary
            .glass
            .extend(glass::seed(db, p, &showcase).await.context("break-glass in the demo")?);
    }
    summary.consent = consent::seed(db, partnerships, summary, today)
        .await
        .context("consent in the demo")?;
    for (p, (_, large)) in partnerships.iter().zip(summary.large_families.clone()) {
        summary.sar_subjects.extend(
            transparency::seed(db, p, large)
                .await
                .context("transparency in the demo")?,
        );
    }
    stages.lap("plans, transitions, break-glass, consent");
    // Kensington and Chelsea follows Greater Manchester's eight stages; Westminster the Healthy Child Programme.
    db.set_pathway_model(
        partnerships[1].tenant_id,
        kindred_domain::pathway::PathwayModel::GreaterManchester,
    )
    .await?;
    // The feeds: a year of live births, antenatal bookings, missed
    // immunisations and a housing extract per borough, through the real import.
    for (i, (p, known)) in partnerships.iter().zip(known).enumerate() {
        let seeded = feeds::seed(db, p, known, opts.seed + 600 + i as u64, nhs_used, today)
            .await
            .context("the feeds in the demo")?;
        summary.feeds.push(format!(
            "{}: {} imports, {} records waiting for match review, {} tasks for the family hubs",
            p.code, seeded.runs, seeded.to_review, seeded.tasks
        ));
    }
    stages.lap("feeds");
    // Two self-assessments of each partnership's maturity, nine months apart.
    for p in partnerships {
        maturity(db, p, today).await?;
    }
    // The outcomes framework (issue 7, F15): needs registers, results, sustainment checks, distance travelled.
    for (i, p) in partnerships.iter().enumerate() {
        let s = outcomes::seed(db, p, opts.seed + 700 + i as u64, today)
            .await
            .context("outcomes in the demo")?;
        summary.outcomes.push(format!(
            "{}: {} needs, {} sustainment checks done and {} due, {} families with distance travelled",
            p.code, s.needs, s.checks_done, s.checks_due, s.assessed_families
        ));
    }
    stages.lap("outcomes");
    // Early identification (F20): attendance and arrears feeds, involvements,
    // the agreement, and one decision, per borough.
    for (i, (p, known)) in partnerships.iter().zip(known).enumerate() {
        summary.early_identification.push(
            early_identification::seed(db, p, known, opts.seed + 800 + i as u64, today)
                .await
                .context("early identification in the demo")?,
        );
    }
    stages.lap("early identification");
    // Saved reports (issue 7): the manager's, one shared in the organisation, and the analyst's.
    for p in partnerships {
        summary
            .reports
            .extend(reports::seed(db, p).await.context("saved reports in the demo")?);
    }
    stages.lap("reports");
    // The service directory (issue 8, F17), and requests connecting families to its services.
    for (p, known) in partnerships.iter().zip(known) {
        let d = directory::seed(db, p, known, rng, today)
            .await
            .context("the service directory in the demo")?;
        summary.directory.push(format!(
            "{}: {} services, {} connection requests",
            p.code, d.services, d.connections
        ));
    }
    stages.lap("directory");
    // Retention (issue 9): families quiet for years, flagged for the privacy officer.
    for p in partnerships {
        summary.retention.push(
            retention::seed(db, p, rng, today)
                .await
                .context("retention in the demo")?,
        );
    }
    stages.lap("retention");
    Ok(())
}

/// Partner systems (issue 8), last: each has an account row of its own.
/// A VCS system publishes services to the directory when there is one.
async fn partner_systems(db: &Db, partnerships: &[Partnership], directory: bool) -> anyhow::Result<()> {
    for c in DEMO_CLIENTS {
        let p = partnerships
            .iter()
            .find(|p| p.code == c.tenant)
            .context("a demo client's borough")?;
        let org = *p
            .orgs
            .get(&c.organisation_kind)
            .and_then(|o| o.first())
            .context("a demo client's organisation")?;
        let (client, _) = kindred_web::api_auth::register(
            db,
            p.tenant_id,
            org,
            c.name,
            None,
            Some((c.client_id, DEMO_CLIENT_SECRET)),
        )
        .await
        .context("demo partner systems")?;
        if directory && c.organisation_kind == OrgKind::Vcs {
            directory::published_by_partner_system(db, &client)
                .await
                .context("services a demo partner system published")?;
        }
    }
    Ok(())
}

/// A partnership's self-assessments against the maturity matrix: one nine
/// months ago, and one this month showing progress on information sharing
/// and integrated working.
async fn maturity(db: &Db, p: &Partnership, today: time::Date) -> anyhow::Result<()> {
    use kindred_domain::maturity::{Dimension, Level, Rating};
    let Some(&manager) = p.named.get("manager") else {
        return Ok(());
    };
    let rate = |levels: [Level; 5], comments: [&str; 5]| -> Vec<Rating> {
        Dimension::ALL
            .iter()
            .zip(levels)
            .zip(comments)
            .map(|((d, level), c)| Rating {
                dimension: *d,
                level,
                comment: c.to_string(),
            })
            .collect()
    };
    let earlier = rate(
        [
            Level::EarlyProgress,
            Level::Basic,
            Level::Basic,
            Level::Basic,
            Level::Basic,
        ],
        [
            "Family hub partnership board set up; reports to the Health and Wellbeing Board.",
            "Health visiting and early help commissioned separately; shared priorities agreed.",
            "Live births shared by email each month; no agreement for case information.",
            "Some joint training on the family-led assessment.",
            "Each service on its own system.",
        ],
    );
    let now = rate(
        [
            Level::Substantial,
            Level::EarlyProgress,
            Level::Substantial,
            Level::EarlyProgress,
            Level::Substantial,
        ],
        [
            "Joint governance through the partnership board, with the ICB and schools.",
            "Outcomes framework aligned across the council and the health visiting contract.",
            "Agreements in force for health data and early help sharing; births imported monthly.",
            "Teams around the family span health, schools and the hubs.",
            "One front door and a shared record; partners' systems feed it.",
        ],
    );
    let nine_months_ago = kindred_domain::pathway::add_months(today, -9);
    db.add_maturity_assessment(
        p.tenant_id,
        manager,
        nine_months_ago,
        "Partnership workshop: early help, health visiting, midwifery, schools and the VCS.",
        &earlier,
    )
    .await?;
    db.add_maturity_assessment(
        p.tenant_id,
        manager,
        today,
        "Repeated at the partnership board after the shared record went live.",
        &now,
    )
    .await?;
    Ok(())
}

/// What `build` made, for the command line to print.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Seconds each stage of the build took, in order.
    pub stages: Vec<(&'static str, f64)>,
    /// (tenant code, family id) of each borough's family of eight with 500 contacts.
    pub large_families: Vec<(&'static str, i64)>,
    /// (tenant code, family id) of a family whose needs add up, in each borough.
    pub needs_add_up: Vec<(&'static str, i64)>,
    /// (tenant code, family id) of the family of ten with 2,000 contacts this year.
    pub busiest_family: Option<(&'static str, i64)>,
    pub open_referrals: u64,
    pub contacts: u64,
    /// (family id, one-time code) for a parent of each large family to sign in to `/portal`.
    pub portal_codes: Vec<(i64, String)>,
    /// Each borough's sealed family and a break-glass to try.
    pub glass: Vec<glass::Glass>,
    /// What to look at for consent and information sharing, one line each.
    pub consent: Vec<String>,
    /// (tenant code, person id, name) of a parent whose subject access request bundle is worth reading.
    pub sar_subjects: Vec<(&'static str, i64, String)>,
    /// What the feeds brought in, one line per borough.
    pub feeds: Vec<String>,
    /// The outcomes framework's needs, checks and assessments, one line per borough.
    pub outcomes: Vec<String>,
    /// What early identification lists, one line per borough.
    pub early_identification: Vec<String>,
    /// (tenant code, saved report id, name, shared) of the demo's saved reports.
    pub reports: Vec<(&'static str, i64, String, bool)>,
    /// The service directory and its connection requests, one line per borough (issue 8).
    pub directory: Vec<String>,
    /// The families flagged for the privacy officer's retention review, one line per borough.
    pub retention: Vec<String>,
}

async fn build_borough(
    db: &Db,
    b: &Borough,
    rng: &mut ChaCha8Rng,
    demo_hash: &str,
    locked_hash: &str,
) -> anyhow::Result<Partnership> {
    let tenant = db.create_tenant(b.code, b.name).await?;
    let mut orgs: BTreeMap<OrgKind, Vec<i64>> = BTreeMap::new();
    let mut workers: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let mut by_kind_first: BTreeMap<OrgKind, i64> = BTreeMap::new();
    let plans = org_plans(b);
    for plan in &plans {
        let org = db.create_organisation(tenant.id, &plan.name, plan.kind).await?;
        orgs.entry(plan.kind).or_default().push(org.id);
        by_kind_first.entry(plan.kind).or_insert(org.id);
    }
    let hub_org = by_kind_first[&OrgKind::FamilyHub];
    let mut districts: Vec<&'static str> = vec![];
    let mut hub_ids = vec![];
    let mut hubs = vec![];
    for (name, areas) in b.hubs {
        let owned: Vec<String> = areas.iter().map(|a| a.to_string()).collect();
        let site = db.create_hub_site(tenant.id, Some(hub_org), name, None, &owned).await?;
        hub_ids.push(site.id);
        hubs.push((site.id, *areas));
        districts.extend(areas.iter().copied());
    }
    for (name, areas) in b.wards {
        let owned: Vec<String> = areas.iter().map(|a| a.to_string()).collect();
        db.set_ward(tenant.id, name, &owned).await?;
    }
    // Each hub site's own team of the family hub, which takes the site's work from the feeds.
    for (name, _) in b.hubs {
        let site = hubs.iter().zip(b.hubs).find(|(_, (n, _))| n == name).map(|(h, _)| h.0);
        if let Some(site) = site {
            db.create_team(tenant.id, hub_org, Some(site), &format!("{name} team"))
                .await?;
        }
    }
    let mut names: BTreeMap<i64, String> = BTreeMap::new();
    let mut org_of: BTreeMap<i64, i64> = BTreeMap::new();
    let mut named: BTreeMap<&'static str, i64> = BTreeMap::new();
    // Each organisation's first team: the named demo accounts work in it.
    let mut team_of_org: BTreeMap<i64, i64> = BTreeMap::new();
    let domain = format!("{}.example", b.code);
    let mut n = 0;
    for (plan, org_ids) in plans.iter().zip(plans.iter().map(|p| orgs[&p.kind].clone())) {
        let org_id = *org_ids
            .iter()
            .find(|id| !workers.contains_key(id))
            .unwrap_or(&org_ids[0]);
        let hub = hub_ids[n % hub_ids.len()];
        let team = db
            .create_team(tenant.id, org_id, Some(hub), &format!("{} team", plan.name))
            .await?;
        team_of_org.entry(org_id).or_insert(team.id);
        let pool = workers.entry(org_id).or_default();
        for _ in 0..plan.workers {
            n += 1;
            let (first, last) = worker_name(rng);
            let u = db
                .create_user(&NewUser {
                    tenant_id: tenant.id,
                    organisation_id: org_id,
                    team_id: Some(team.id),
                    email: format!(
                        "{}.{}{n}@{domain}",
                        first.to_lowercase(),
                        last.to_lowercase().replace(['\'', ' '], "")
                    ),
                    display_name: format!("{first} {last}"),
                    profession: plan.profession,
                    roles: vec![Role::Practitioner],
                    password_hash: locked_hash.to_string(),
                })
                .await?;
            names.insert(u.id, u.display_name.clone());
            org_of.insert(u.id, org_id);
            pool.push(u.id);
        }
    }
    // The named demo accounts, and the front door, managers and administrator.
    let first_of = |k: OrgKind| by_kind_first[&k];
    let demo: Vec<(&'static str, &str, OrgKind, Profession, Vec<Role>)> = match b.code {
        "westminster" => vec![
            (
                "hv",
                "Hannah Price",
                OrgKind::HealthVisiting,
                Profession::HealthVisitor,
                vec![Role::Practitioner],
            ),
            (
                "schoolnurse",
                "Sam Okoro",
                OrgKind::SchoolNursing,
                Profession::SchoolNurse,
                vec![Role::Practitioner],
            ),
            (
                "socialworker",
                "Sofia Mendes",
                OrgKind::ChildrensSocialCare,
                Profession::SocialWorker,
                vec![Role::Practitioner],
            ),
            (
                "earlyhelp",
                "Ed Harper",
                OrgKind::EarlyHelp,
                Profession::EarlyHelpWorker,
                vec![Role::Practitioner],
            ),
            (
                "triage",
                "Tara Quinn",
                OrgKind::EarlyHelp,
                Profession::EarlyHelpWorker,
                vec![Role::Triage],
            ),
            (
                "vcs",
                "Val Carter",
                OrgKind::Vcs,
                Profession::VcsWorker,
                vec![Role::Practitioner],
            ),
            (
                "manager",
                "Morgan Blake",
                OrgKind::EarlyHelp,
                Profession::EarlyHelpWorker,
                vec![Role::Manager],
            ),
            (
                "admin",
                "Alex Admin",
                OrgKind::FamilyHub,
                Profession::Administrator,
                vec![Role::Admin],
            ),
            (
                "privacy",
                "Priya Shah",
                OrgKind::FamilyHub,
                Profession::Administrator,
                vec![Role::PrivacyOfficer],
            ),
            (
                "data",
                "Dee Adeyemi",
                OrgKind::FamilyHub,
                Profession::Administrator,
                vec![Role::DataOfficer],
            ),
            (
                "analyst",
                "Ana Whitfield",
                OrgKind::EarlyHelp,
                Profession::Analyst,
                vec![Role::Analyst],
            ),
        ],
        _ => vec![
            (
                "hv",
                "Harriet Kaur",
                OrgKind::HealthVisiting,
                Profession::HealthVisitor,
                vec![Role::Practitioner],
            ),
            (
                "triage",
                "Theo Grant",
                OrgKind::EarlyHelp,
                Profession::EarlyHelpWorker,
                vec![Role::Triage],
            ),
            (
                "manager",
                "Maya Lewis",
                OrgKind::EarlyHelp,
                Profession::EarlyHelpWorker,
                vec![Role::Manager],
            ),
            (
                "admin",
                "Ari Admin",
                OrgKind::FamilyHub,
                Profession::Administrator,
                vec![Role::Admin],
            ),
            (
                "privacy",
                "Pat Okafor",
                OrgKind::FamilyHub,
                Profession::Administrator,
                vec![Role::PrivacyOfficer],
            ),
            (
                "data",
                "Dan Murray",
                OrgKind::FamilyHub,
                Profession::Administrator,
                vec![Role::DataOfficer],
            ),
            (
                "analyst",
                "Rory Chen",
                OrgKind::EarlyHelp,
                Profession::Analyst,
                vec![Role::Analyst],
            ),
        ],
    };
    for (local, name, kind, profession, roles) in demo {
        let org_id = first_of(kind);
        let practitioner = roles.contains(&Role::Practitioner);
        let u = db
            .create_user(&NewUser {
                tenant_id: tenant.id,
                organisation_id: org_id,
                team_id: if matches!(local, "admin" | "privacy" | "data" | "analyst") {
                    None
                } else {
                    team_of_org.get(&org_id).copied()
                },
                email: format!("{local}@{domain}"),
                display_name: name.to_string(),
                profession,
                roles,
                password_hash: demo_hash.to_string(),
            })
            .await?;
        names.insert(u.id, name.to_string());
        org_of.insert(u.id, org_id);
        named.insert(local, u.id);
        if practitioner {
            // Demo practitioners carry a real caseload: put them first in their pool, twice.
            let pool = workers.entry(org_id).or_default();
            pool.insert(0, u.id);
            pool.insert(0, u.id);
        }
    }
    // Kensington and Chelsea triages within two working days; Westminster keeps the default 48 hours.
    let rule = if b.code == "rbkc" {
        DueRule {
            hours: 16,
            working_hours_only: true,
        }
    } else {
        DueRule::default()
    };
    db.set_triage_rule(tenant.id, rule).await?;
    Ok(Partnership {
        tenant_id: tenant.id,
        code: b.code,
        la_code: b.la_code,
        districts,
        hubs,
        rule,
        names,
        org_of,
        named,
        orgs,
        workers,
    })
}

fn worker_name(rng: &mut ChaCha8Rng) -> (&'static str, &'static str) {
    let first = if rng.gen_bool(0.8) { names::WOMEN } else { names::MEN };
    (
        first.choose(rng).copied().unwrap_or("Sam"),
        names::SURNAMES.choose(rng).copied().unwrap_or("Smith"),
    )
}

struct FamilyGen<'a> {
    rng: &'a mut ChaCha8Rng,
    today: Date,
    batch: &'a mut Batch,
    nhs_used: &'a mut HashSet<String>,
    p: &'a Partnership,
    /// The oldest a child of this family can be: 17 years younger than its first adult.
    child_cap: i32,
    ids: &'a mut MaxIds,
    now_ms: i64,
    /// The chance that a family has a referral waiting in the triage queue.
    open_rate: f64,
    /// The first families of the borough, for the demo's hand-made referrals.
    known: &'a mut Vec<casework::Known>,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Adult,
    Child,
    Unborn,
}

#[derive(Clone)]
struct Member {
    id: i64,
    kind: Kind,
    age: i32,
    role: &'static str,
    send: bool,
    given: &'static str,
    family: String,
    dob: Option<Date>,
    edd: Option<Date>,
    sex: &'static str,
    nhs: Option<String>,
}

/// A synthetic NHS number from the never-issued 999 range, not used before;
/// none once the range is nearly used up (it holds about 909,000 valid
/// numbers, fewer than a million-person demo has people), so the demo
/// always ends: those people have no NHS number on record.
fn fresh_nhs_number(rng: &mut ChaCha8Rng, used: &mut HashSet<String>) -> Option<String> {
    for _ in 0..200 {
        let s = any_nhs_number(rng);
        if used.insert(s.clone()) {
            return Some(s);
        }
    }
    None
}

/// A valid synthetic NHS number from the 999 range, used or not.
fn any_nhs_number(rng: &mut ChaCha8Rng) -> String {
    loop {
        let mut first = [9u8; 9];
        for d in first.iter_mut().skip(3) {
            *d = rng.gen_range(0..10);
        }
        if let Some(n) = NhsNumber::from_first_nine(first) {
            return n.as_digits();
        }
    }
}

impl FamilyGen<'_> {
    fn born(&mut self, min_age: i32, max_age: i32) -> (Date, i32) {
        let days = self.rng.gen_range(min_age * 365..=max_age * 365 + 364);
        let d = self.today - Duration::days(days as i64);
        (d, kindred_domain::dates::age_in_years(d, self.today))
    }

    fn nhs(&mut self) -> Option<String> {
        // About one person in fifteen has no NHS number on record.
        if self.rng.gen_bool(0.07) {
            return None;
        }
        fresh_nhs_number(self.rng, self.nhs_used)
    }

    fn upn(&mut self, age: i32) -> Option<String> {
        if !(4..=18).contains(&age) || self.rng.gen_bool(0.3) {
            return None;
        }
        let rest = format!(
            "{:03}{:04}{:02}{:03}",
            self.p.la_code,
            self.rng.gen_range(2000..2999),
            (self.today.year() - age + 5) % 100,
            self.rng.gen_range(0..999)
        );
        let letter = Upn::check_letter(&rest)?;
        Some(format!("{letter}{rest}"))
    }

    #[allow(clippy::too_many_arguments)]
    fn person(
        &mut self,
        family_name: &str,
        female: bool,
        kind: Kind,
        min_age: i32,
        max_age: i32,
        role: &'static str,
        lang: Option<&'static str>,
    ) -> Member {
        self.ids.person += 1;
        let id = self.ids.person;
        let given = match (kind, female) {
            (Kind::Adult, true) => names::WOMEN.choose(self.rng),
            (Kind::Adult, false) => names::MEN.choose(self.rng),
            (_, true) => names::GIRLS.choose(self.rng),
            (_, false) => names::BOYS.choose(self.rng),
        }
        .copied()
        .unwrap_or("Alex");
        let (min_age, max_age) = if kind == Kind::Child {
            let max_age = max_age.min(self.child_cap);
            (min_age.min(max_age), max_age)
        } else {
            (min_age, max_age)
        };
        let (date_of_birth, expected_delivery, age) = if kind == Kind::Unborn {
            (None, Some(self.today + Duration::days(self.rng.gen_range(7..200))), -1)
        } else {
            let (d, a) = self.born(min_age, max_age);
            (Some(d), None, a)
        };
        let send = match kind {
            Kind::Child => self.rng.gen_bool(0.12),
            Kind::Adult if age <= 25 => self.rng.gen_bool(0.5),
            _ => false,
        };
        let interpreter_needed = lang.is_some() && kind == Kind::Adult && self.rng.gen_bool(0.35);
        let nhs_number = if kind == Kind::Unborn { None } else { self.nhs() };
        let upn = if kind == Kind::Child { self.upn(age) } else { None };
        let preferred_name =
            (kind != Kind::Unborn && self.rng.gen_bool(0.04)).then(|| given.chars().take(3).collect::<String>());
        let given = if kind == Kind::Unborn { "Baby" } else { given };
        let sex = if kind == Kind::Unborn {
            "unknown"
        } else if female {
            "female"
        } else {
            "male"
        };
        self.batch.persons.push(PersonRow {
            id,
            tenant_id: self.p.tenant_id,
            given_name: given.into(),
            family_name: family_name.into(),
            preferred_name,
            date_of_birth,
            expected_delivery,
            sex,
            nhs_number: nhs_number.clone(),
            upn,
            language: Some(lang.unwrap_or("English").into()),
            interpreter_needed,
            send,
        });
        if kind == Kind::Adult && self.child_cap == 99 {
            self.child_cap = (age - 17).max(0);
        }
        Member {
            id,
            kind,
            age,
            role,
            send,
            given,
            family: family_name.to_string(),
            dob: date_of_birth,
            edd: expected_delivery,
            sex,
            nhs: nhs_number,
        }
    }

    fn postcode(&mut self) -> String {
        const LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
        let d = self.p.districts.choose(self.rng).copied().unwrap_or("W2");
        let a = LETTERS[self.rng.gen_range(0..LETTERS.len())] as char;
        let b = LETTERS[self.rng.gen_range(0..LETTERS.len())] as char;
        let pc = format!("{d} {}{a}{b}", self.rng.gen_range(1..10));
        Postcode::parse(&pc).map(|p| p.to_string()).unwrap_or(pc)
    }

    fn family(&mut self, family_id: i64) {
        let surname = names::SURNAMES.choose(self.rng).copied().unwrap_or("Smith");
        let lang = if self.rng.gen_bool(0.3) {
            names::LANGUAGES.choose(self.rng).copied()
        } else {
            None
        };
        let shape = self.rng.gen_range(0..100);
        let mut m: Vec<Member> = vec![];
        let mut partner_pairs = vec![];
        let mut step = vec![];
        match shape {
            // Single parent with one to three children.
            0..=29 => {
                let female = self.rng.gen_bool(0.88);
                m.push(self.person(surname, female, Kind::Adult, 19, 45, "parent", lang));
                for _ in 0..self.rng.gen_range(1..=3) {
                    let f = self.rng.gen_bool(0.5);
                    m.push(self.person(surname, f, Kind::Child, 0, 15, "child", lang));
                }
            }
            // Two parents with one to four children.
            30..=59 => {
                m.push(self.person(surname, true, Kind::Adult, 21, 45, "parent", lang));
                m.push(self.person(surname, false, Kind::Adult, 22, 50, "parent", lang));
                partner_pairs.push((0, 1));
                for _ in 0..self.rng.gen_range(1..=4) {
                    let f = self.rng.gen_bool(0.5);
                    m.push(self.person(surname, f, Kind::Child, 0, 16, "child", lang));
                }
            }
            // Blended: a parent, a new partner with another surname, children of both.
            60..=69 => {
                let other = names::SURNAMES.choose(self.rng).copied().unwrap_or("Jones");
                m.push(self.person(surname, true, Kind::Adult, 24, 45, "parent", lang));
                m.push(self.person(other, false, Kind::Adult, 24, 50, "carer", None));
                partner_pairs.push((0, 1));
                for _ in 0..self.rng.gen_range(1..=2) {
                    let f = self.rng.gen_bool(0.5);
                    m.push(self.person(surname, f, Kind::Child, 3, 15, "child", lang));
                    step.push(m.len() - 1);
                }
                let f = self.rng.gen_bool(0.5);
                m.push(self.person(other, f, Kind::Child, 0, 3, "child", None));
            }
            // Expecting: a young parent or a couple, sometimes with a toddler, and an unborn baby.
            70..=79 => {
                m.push(self.person(surname, true, Kind::Adult, 17, 38, "parent", lang));
                if self.rng.gen_bool(0.6) {
                    m.push(self.person(surname, false, Kind::Adult, 18, 42, "parent", lang));
                    partner_pairs.push((0, 1));
                }
                if self.rng.gen_bool(0.4) {
                    let f = self.rng.gen_bool(0.5);
                    m.push(self.person(surname, f, Kind::Child, 1, 3, "child", lang));
                }
                m.push(self.person(surname, false, Kind::Unborn, 0, 0, "unborn", lang));
            }
            // Teenagers, sometimes living with a grandparent.
            80..=91 => {
                if self.rng.gen_bool(0.2) {
                    m.push(self.person(surname, true, Kind::Adult, 55, 75, "grandparent", lang));
                } else {
                    let female = self.rng.gen_bool(0.8);
                    m.push(self.person(surname, female, Kind::Adult, 32, 55, "parent", lang));
                }
                for _ in 0..self.rng.gen_range(1..=2) {
                    let f = self.rng.gen_bool(0.5);
                    m.push(self.person(surname, f, Kind::Child, 13, 17, "child", lang));
                }
            }
            // A young adult with SEND, up to 25, and their parents and siblings.
            _ => {
                m.push(self.person(surname, true, Kind::Adult, 40, 60, "parent", lang));
                if self.rng.gen_bool(0.5) {
                    m.push(self.person(surname, false, Kind::Adult, 42, 65, "parent", lang));
                    partner_pairs.push((0, 1));
                }
                let f = self.rng.gen_bool(0.5);
                let mut ya = self.person(surname, f, Kind::Adult, 19, 25, "sibling", lang);
                ya.send = true;
                if let Some(p) = self.batch.persons.iter_mut().rev().find(|p| p.id == ya.id) {
                    p.send = true;
                }
                m.push(ya);
                if self.rng.gen_bool(0.5) {
                    let f = self.rng.gen_bool(0.5);
                    m.push(self.person(surname, f, Kind::Child, 8, 17, "child", lang));
                }
            }
        }
        let family_name = format!("{surname} household");
        let joined = self.today - Duration::days(self.rng.gen_range(30..2_500));
        for x in &m {
            self.batch.members.push((family_id, x.id, x.role, joined));
        }
        // Relationships: parents and carers to children, partners, siblings.
        let adults: Vec<usize> = (0..m.len())
            .filter(|i| m[*i].kind == Kind::Adult && m[*i].role != "sibling")
            .collect();
        let young: Vec<usize> = (0..m.len()).filter(|i| !adults.contains(i)).collect();
        for &a in &adults {
            for &c in &young {
                let kind = match m[a].role {
                    "grandparent" => "grandparent_of",
                    "carer" if step.contains(&c) => "step_parent_of",
                    "carer" => "parent_of",
                    _ if step.is_empty() || step.contains(&c) || a == 0 => "parent_of",
                    _ => "parent_of",
                };
                self.batch.relationships.push((m[a].id, m[c].id, kind));
            }
        }
        for (a, b) in partner_pairs {
            self.batch.relationships.push((m[a].id, m[b].id, "partner_of"));
        }
        for (i, &a) in young.iter().enumerate() {
            for &b in &young[i + 1..] {
                let half = step.contains(&a) != step.contains(&b);
                self.batch
                    .relationships
                    .push((m[a].id, m[b].id, if half { "half_sibling_of" } else { "sibling_of" }));
            }
        }
        // Address: everyone at one address; a fifth moved in from somewhere else in the borough.
        let street = names::STREETS.choose(self.rng).copied().unwrap_or("High Street");
        let line1 = format!("{} {street}", self.rng.gen_range(1..240));
        let pc = self.postcode();
        let moved = self.rng.gen_bool(0.2);
        let old = (moved).then(|| {
            (
                format!(
                    "Flat {} {}",
                    self.rng.gen_range(1..40),
                    names::STREETS.choose(self.rng).copied().unwrap_or("Road")
                ),
                self.postcode(),
            )
        });
        for x in &m {
            if x.kind == Kind::Unborn {
                continue;
            }
            if let Some((old_line, old_pc)) = &old {
                self.batch.addresses.push(AddressRow {
                    person_id: x.id,
                    line1: old_line.clone(),
                    town: "London".into(),
                    postcode: old_pc.clone(),
                    from_date: joined - Duration::days(900),
                    to_date: Some(joined),
                });
            }
            self.batch.addresses.push(AddressRow {
                person_id: x.id,
                line1: line1.clone(),
                town: "London".into(),
                postcode: pc.clone(),
                from_date: joined,
                to_date: None,
            });
        }
        self.batch.families.push(FamilyRow {
            id: family_id,
            tenant_id: self.p.tenant_id,
            name: family_name,
            lead_user_id: None,
        });
        let (active, lead) = self.involve(family_id, &m, joined);
        let hub = self.hub_of(&pc);
        let fam = casework::FamilyFacts {
            id: family_id,
            members: &m,
            active: &active,
            lead,
            hub,
        };
        self.casework(&fam);
        if self.known.len() < 60 {
            self.known.push(casework::Known {
                family_id,
                members: m.clone(),
                postcode: pc,
                line1,
                hub,
            });
        }
    }

    /// The hub site whose reach covers a postcode's district.
    fn hub_of(&self, postcode: &str) -> Option<i64> {
        let district = postcode.split(' ').next().unwrap_or_default();
        self.p
            .hubs
            .iter()
            .find(|(_, areas)| areas.contains(&district))
            .map(|(id, _)| *id)
    }

    fn org(&mut self, kind: OrgKind) -> Option<i64> {
        self.p.orgs.get(&kind).and_then(|v| v.choose(self.rng).copied())
    }

    /// Which services are involved, who from each is in the team, and who
    /// leads. Returns the services still involved, and the lead.
    fn involve(&mut self, family_id: i64, m: &[Member], joined: Date) -> (Vec<casework::Active>, Option<i64>) {
        let under5 = m
            .iter()
            .any(|x| x.kind == Kind::Unborn || (x.kind == Kind::Child && x.age < 5));
        let unborn = m.iter().any(|x| x.kind == Kind::Unborn);
        let school_age = m.iter().any(|x| x.kind == Kind::Child && (4..=16).contains(&x.age));
        let teen = m.iter().any(|x| x.kind == Kind::Child && x.age >= 13);
        let send_adult = m.iter().any(|x| x.kind == Kind::Adult && x.send);
        let mut involved: Vec<(OrgKind, &'static str)> = vec![];
        let r = &mut *self.rng;
        if under5 && r.gen_bool(0.92) {
            involved.push((OrgKind::HealthVisiting, "Health visiting"));
        }
        if unborn {
            involved.push((OrgKind::Midwifery, "Antenatal care"));
        }
        if school_age {
            involved.push((OrgKind::School, "Education"));
            if r.gen_bool(0.3) {
                involved.push((OrgKind::SchoolNursing, "School nursing"));
            }
        }
        if r.gen_bool(0.3) {
            involved.push((OrgKind::EarlyHelp, "Family support"));
        }
        if r.gen_bool(0.25) {
            involved.push((OrgKind::FamilyHub, "Family hub services"));
        }
        if r.gen_bool(0.07) {
            involved.push((OrgKind::ChildrensSocialCare, "Child in need"));
        }
        if teen && r.gen_bool(0.15) {
            involved.push((OrgKind::Camhs, "CAMHS"));
        }
        if r.gen_bool(0.07) {
            involved.push((OrgKind::AdultMentalHealth, "Parental mental health"));
        }
        if send_adult && r.gen_bool(0.6) {
            involved.push((OrgKind::AdultSocialCare, "Transition to adult services"));
        }
        if r.gen_bool(0.1) {
            involved.push((OrgKind::Housing, "Housing options"));
        }
        if r.gen_bool(0.03) {
            involved.push((OrgKind::Police, "Domestic abuse follow-up"));
        }
        if r.gen_bool(0.12) {
            involved.push((OrgKind::Vcs, "Family support volunteer"));
        }
        if r.gen_bool(0.4) {
            involved.push((OrgKind::GpPractice, "GP practice"));
        }
        let mut team = vec![];
        let mut lead = None;
        let mut active = vec![];
        for (kind, service) in involved {
            let Some(org) = self.org(kind) else { continue };
            let started = joined + Duration::days(self.rng.gen_range(0..200)).min(self.today - joined);
            // A few past involvements, ended.
            let ended = (self.rng.gen_bool(0.08)).then(|| started + (self.today - started) / 2);
            self.batch
                .involvements
                .push((family_id, org, service.to_string(), started, ended));
            if ended.is_some() {
                continue;
            }
            active.push(casework::Active { kind, org, started });
            let in_team = matches!(
                kind,
                OrgKind::EarlyHelp
                    | OrgKind::ChildrensSocialCare
                    | OrgKind::HealthVisiting
                    | OrgKind::FamilyHub
                    | OrgKind::Vcs
                    | OrgKind::SchoolNursing
                    | OrgKind::Camhs
            ) && self.rng.gen_bool(0.75);
            let worker = if in_team {
                self.p.workers.get(&org).and_then(|v| v.choose(self.rng).copied())
            } else {
                None
            };
            let Some(w) = worker.filter(|w| !team.contains(w)) else {
                continue;
            };
            team.push(w);
            self.batch.team.push((family_id, w, started));
            let leads = match kind {
                OrgKind::ChildrensSocialCare => true,
                OrgKind::EarlyHelp => lead.is_none(),
                OrgKind::HealthVisiting | OrgKind::FamilyHub => lead.is_none() && self.rng.gen_bool(0.3),
                _ => false,
            };
            if leads {
                lead = Some(w);
            }
        }
        if let Some(l) = lead {
            if let Some(f) = self.batch.families.iter_mut().rev().find(|f| f.id == family_id) {
                f.lead_user_id = Some(l);
            }
            self.batch.leads.push((
                family_id,
                l,
                kindred_store::now_ms() - self.rng.gen_range(0..90) * 86_400_000,
            ));
        }
        (active, lead)
    }
}
