//! Consent and information sharing in the demo (issue 5). Each borough has an
//! early help partnership agreement, on public task, sharing identity and
//! involvement between all its organisations — not case notes or
//! assessments, so the family's consent is what lets those cross. Most
//! families with work going on have consented (a parent for themselves and
//! the children; a few scoped to named organisations; a few young people for
//! themselves, judged competent); one family has withdrawn. Westminster and
//! Kensington and Chelsea share early help under a bi-borough agreement, and
//! a Kensington and Chelsea early help worker is in the team around one
//! Westminster family.

use kindred_domain::model::{ContactMode, MemberRole, NoteVisibility, OrgKind, Profession, Role};
use kindred_domain::sharing::{ConsentMethod, DataCategory, EARLY_HELP_SHARING, LawfulBasis};
use kindred_store::Db;
use kindred_store::consents::{NewAgreement, NewConsent};
use kindred_store::contacts::NewContact;
use kindred_store::users::NewUser;
use time::{Date, Duration};

use crate::{BOROUGHS, DEMO_PASSWORD, Partnership, Summary};

/// The sign-in of the bi-borough team's Kensington and Chelsea worker.
pub const BI_BOROUGH_EMAIL: &str = "earlyhelp@rbkc.example";

const METHODS: [(ConsentMethod, &str); 3] = [
    (
        ConsentMethod::Written,
        "Signed early help consent form, scanned to the family's documents",
    ),
    (
        ConsentMethod::Verbal,
        "Agreed at the home visit after we explained what is shared, with whom and why; the parent was offered the leaflet",
    ),
    (
        ConsentMethod::Online,
        "Ticked the consent statement in the self-referral form",
    ),
];

/// One family's current members: (person id, role, date of birth).
type Members = Vec<(i64, MemberRole, Option<Date>)>;

fn age(dob: Option<Date>, today: Date) -> Option<i32> {
    dob.map(|d| kindred_domain::dates::age_in_years(d, today))
}

/// Seeds the agreements, consents and the bi-borough worker. Returns the
/// lines `kindred demo` prints.
pub(crate) async fn seed(
    db: &Db,
    partnerships: &[Partnership],
    summary: &Summary,
    today: Date,
) -> anyhow::Result<Vec<String>> {
    let mut lines = vec![];
    // The showcase families (the 360° profile's, the busiest) keep their
    // consent and their own teams: the withdrawn and bi-borough families are others.
    let showcase: Vec<i64> = summary
        .large_families
        .iter()
        .map(|f| f.1)
        .chain(summary.busiest_family.map(|f| f.1))
        .collect();
    let mut eh_orgs = vec![];
    for p in partnerships {
        let short = BOROUGHS
            .iter()
            .find(|b| b.code == p.code)
            .map(|b| b.short)
            .unwrap_or(p.code);
        let Some(admin) = p.named.get("admin").copied() else {
            continue;
        };
        let all_orgs: Vec<i64> = p.orgs.values().flatten().copied().collect();
        db.create_agreement(&NewAgreement {
            tenant_id: p.tenant_id,
            title: format!("{short} early help partnership"),
            lawful_basis: LawfulBasis::PublicTask,
            purposes: vec![EARLY_HELP_SHARING.into()],
            categories: vec![DataCategory::Identity, DataCategory::Involvement],
            starts_on: today - Duration::days(400),
            ends_on: None,
            organisation_ids: all_orgs,
            created_by_user_id: admin,
        })
        .await?;
        eh_orgs.push((p, admin, p.orgs.get(&OrgKind::EarlyHelp).cloned().unwrap_or_default()));
        lines.extend(consents(db, p, today, &showcase).await?);
    }
    // The bi-borough agreement and its shared team.
    if let [(west, west_admin, west_eh), (rbkc, _, rbkc_eh)] = eh_orgs.as_slice() {
        db.create_agreement(&NewAgreement {
            tenant_id: west.tenant_id,
            title: "Westminster and Kensington and Chelsea bi-borough early help".into(),
            lawful_basis: LawfulBasis::PublicTask,
            purposes: vec![EARLY_HELP_SHARING.into()],
            categories: vec![
                DataCategory::Identity,
                DataCategory::CaseNotes,
                DataCategory::Assessments,
                DataCategory::Involvement,
            ],
            starts_on: today - Duration::days(200),
            ends_on: None,
            organisation_ids: west_eh.iter().chain(rbkc_eh.iter()).copied().collect(),
            created_by_user_id: *west_admin,
        })
        .await?;
        if let (Some(&rbkc_org), Some(&ed)) = (rbkc_eh.first(), west.named.get("earlyhelp")) {
            let team = db
                .teams(rbkc.tenant_id)
                .await?
                .into_iter()
                .find(|t| t.organisation_id == rbkc_org)
                .map(|t| t.id);
            let worker = db
                .create_user(&NewUser {
                    tenant_id: rbkc.tenant_id,
                    organisation_id: rbkc_org,
                    team_id: team,
                    email: BI_BOROUGH_EMAIL.into(),
                    display_name: "Elif Demir".into(),
                    profession: Profession::EarlyHelpWorker,
                    roles: vec![Role::Practitioner],
                    password_hash: kindred_web::passwords::hash(DEMO_PASSWORD),
                })
                .await?;
            // A Westminster family Ed Harper, the early help worker, works with.
            let mut family = None;
            for f in families_with_work(db, west.tenant_id)
                .await?
                .into_iter()
                .map(|f| f.0)
                .filter(|f| !showcase.contains(f))
            {
                if db
                    .team(f)
                    .await?
                    .iter()
                    .any(|t| t.user_id == ed && t.until_date.is_none())
                {
                    family = Some(f);
                    break;
                }
            }
            if let Some(f) = family {
                db.add_team_member(f, worker.id, today - Duration::days(14)).await?;
                // Each writes a note the other reads under the bi-borough agreement.
                let note = |author: i64, org: i64, days: i64, mode: ContactMode, body: &str| NewContact {
                    tenant_id: west.tenant_id,
                    family_id: f,
                    organisation_id: org,
                    author_user_id: author,
                    occurred_on: today - Duration::days(days),
                    mode: mode.code(),
                    visibility: NoteVisibility::Team.code(),
                    body: body.into(),
                    people: vec![],
                    readers: vec![],
                };
                if let Some(&ed_org) = west.org_of.get(&ed) {
                    db.add_contact(&note(
                        ed,
                        ed_org,
                        10,
                        ContactMode::HomeVisit,
                        "Joint home visit with Elif Demir of Kensington and Chelsea early help: the family \
                         spend most weekdays at grandma's in North Kensington, so Elif will see them there and \
                         we keep one plan across both boroughs.",
                    ))
                    .await?;
                }
                db.add_contact(&note(
                    worker.id,
                    rbkc_org,
                    3,
                    ContactMode::Hub,
                    "Met mum at the North Kensington Family Hub stay-and-play. She is sleeping better since \
                     the housing repair; agreed the next review date with Ed.",
                ))
                .await?;
                lines.push(format!(
                    "A bi-borough family: a Kensington and Chelsea early help worker ({BI_BOROUGH_EMAIL}) is in the team around /families/{f}"
                ));
            }
        }
    }
    Ok(lines)
}

/// Families with work going on and their current members, in family order.
async fn families_with_work(db: &Db, tenant_id: i64) -> anyhow::Result<Vec<(i64, Members)>> {
    let mut out: Vec<(i64, Members)> = vec![];
    for (family, person, role, dob) in db.members_of_families_with_work(tenant_id).await? {
        let Some(role) = MemberRole::parse(&role) else {
            continue;
        };
        match out.last_mut() {
            Some((f, members)) if *f == family => members.push((person, role, dob)),
            _ => out.push((family, vec![(person, role, dob)])),
        }
    }
    Ok(out)
}

/// Consents for most families with work; the lines to print.
async fn consents(db: &Db, p: &Partnership, today: Date, showcase: &[i64]) -> anyhow::Result<Vec<String>> {
    let recorder = p
        .named
        .get("earlyhelp")
        .or_else(|| p.named.get("hv"))
        .copied()
        .ok_or_else(|| anyhow::anyhow!("no demo practitioner to record consents"))?;
    let first = |k: OrgKind| p.orgs.get(&k).and_then(|v| v.first().copied());
    let named_orgs: Vec<i64> = [OrgKind::EarlyHelp, OrgKind::HealthVisiting, OrgKind::FamilyHub]
        .into_iter()
        .filter_map(first)
        .collect();
    let mut all = vec![];
    let mut self_consents = 0;
    let mut withdrawn_family = None;
    let mut consented = vec![];
    for (i, (family, members)) in families_with_work(db, p.tenant_id).await?.into_iter().enumerate() {
        // Most families: one in seven has not been asked yet, or said no.
        if i % 7 == 3 {
            continue;
        }
        let Some(&(parent, _, _)) = members
            .iter()
            .find(|m| matches!(m.1, MemberRole::Parent | MemberRole::Carer))
        else {
            continue;
        };
        let (method, evidence) = METHODS[i % METHODS.len()];
        let given_on = today - Duration::days(20 + (family % 300));
        // A few consents reach named organisations only.
        let scoped = i % 9 == 4;
        for &(person, role, dob) in &members {
            if role == MemberRole::Unborn {
                continue;
            }
            // A few young people of 13 to 17 consent for themselves.
            let young = age(dob, today).is_some_and(|a| (13..18).contains(&a));
            let own = young && i % 4 == 1;
            self_consents += usize::from(own);
            all.push(NewConsent {
                tenant_id: p.tenant_id,
                person_id: person,
                given_by_person_id: if own { None } else { Some(parent) },
                competence_judgement: own.then(|| {
                    "Talked it through alone with them: they understood what we share, with whom and why, \
                     and that they can change their mind. Judged competent (Gillick)."
                        .to_string()
                }),
                purpose: EARLY_HELP_SHARING.into(),
                all_partners: !scoped,
                organisation_ids: if scoped { named_orgs.clone() } else { vec![] },
                kinds: if scoped { vec![OrgKind::School] } else { vec![] },
                given_on,
                method,
                evidence: evidence.into(),
                recorded_by_user_id: recorder,
            });
        }
        consented.push(family);
    }
    db.record_consents(&all).await?;
    // The second family of the demo practitioner's (the first may be the
    // bi-borough family) withdraws its consent.
    let mut seen = 0;
    for f in consented.into_iter().filter(|f| !showcase.contains(f)) {
        if db
            .team(f)
            .await?
            .iter()
            .any(|t| t.user_id == recorder && t.until_date.is_none())
        {
            seen += 1;
            if seen == 2 {
                withdrawn_family = Some(f);
                break;
            }
        }
    }
    let mut lines = vec![format!(
        "Consent ({}): {} consents to early help information sharing, {self_consents} given by young people judged competent",
        p.code,
        all.len()
    )];
    if let Some(f) = withdrawn_family {
        for c in db.consents_of_family(f).await? {
            db.withdraw_consent(
                c.id,
                recorder,
                today - Duration::days(2),
                "The parent asked us to stop sharing; she will speak to each service herself",
            )
            .await?;
        }
        lines.push(format!(
            "A family that withdrew its consent ({}): notes of other services now show \"Not shared\": /families/{f}/consent",
            p.code
        ));
    }
    Ok(lines)
}
