//! The access policy at the storage level, over random worlds: two tenants,
//! organisations, users with random roles, families with teams, leads,
//! involvements and referrals that come and go, break-glass (live and
//! expired), sealing, agreements between the tenants (some letting them
//! cross), disabled users, and people in families. For every user and every
//! family, the facts the store gathers match what was recorded, the policy
//! never grants without a working relationship inside the user's own tenant
//! (or, across tenants, as a named worker of a partner organisation), the SQL mirror
//! (`visible_families`) lists exactly what the policy allows, and search never
//! shows a family the policy would refuse.

use std::collections::{BTreeMap, BTreeSet};

use kindred_domain::access::{self, Decision, FamilyAction, FamilyFacts, Subject};
use kindred_domain::model::{MemberRole, OrgKind, Profession, Role};
use kindred_store::families::Creator;
use kindred_store::persons::PersonDetails;
use kindred_store::search::{SearchCriteria, Total};
use kindred_store::users::NewUser;
use kindred_store::{Db, testing};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use time::macros::date;

const WORLDS: u64 = 12;
/// Worlds also built on PostgreSQL (when `KINDRED_TEST_DATABASE_URL` is set).
const POSTGRES_WORLDS: u64 = 4;
const FAMILY_NAME: &str = "Testfamily";

/// What the test recorded, to compare with what the store reports.
#[derive(Debug, Default)]
struct FamilyModel {
    id: i64,
    tenant_id: i64,
    lead: Option<i64>,
    /// (user, still in the team) for every team row.
    team: Vec<(i64, bool)>,
    /// (involvement id, organisation, still open).
    involvements: Vec<(i64, i64, bool)>,
    /// (referral id, still open).
    referrals: Vec<(i64, bool)>,
    /// Users with an unexpired break-glass.
    glass: Vec<i64>,
    sealed: bool,
}

#[derive(Debug, Default)]
struct TenantModel {
    id: i64,
    orgs: Vec<i64>,
    /// (user id, organisation, roles)
    users: Vec<(i64, i64, Vec<Role>)>,
    /// Indexes into the world's families.
    families: Vec<usize>,
    persons: Vec<i64>,
}

#[derive(Debug, Default)]
struct World {
    tenants: Vec<TenantModel>,
    families: Vec<FamilyModel>,
    /// (person, family) for every membership, past or present.
    memberships: BTreeSet<(i64, i64)>,
    inactive: BTreeSet<i64>,
    /// Agreements between the two tenants: (in force and not resting on
    /// consent and sharing identity for early help, party organisations).
    agreements: Vec<(bool, Vec<i64>)>,
}

#[derive(Debug, Default)]
struct Tally {
    worlds: u64,
    users: u64,
    families: u64,
    pairs: u64,
    allowed: BTreeMap<&'static str, u64>,
    searches: u64,
    search_hits: u64,
    disagreements: Vec<String>,
}

fn day(n: i64) -> time::Date {
    date!(2024 - 01 - 01) + time::Duration::days(n)
}

fn random_roles(rng: &mut StdRng) -> Vec<Role> {
    match rng.gen_range(0..10) {
        0 => vec![],
        1 => vec![Role::Admin],
        _ => Role::ALL.iter().copied().filter(|_| rng.gen_bool(0.4)).collect(),
    }
}

fn person(given: &str) -> PersonDetails {
    testing::person_details(given, FAMILY_NAME, Some(date!(2015 - 06 - 01)))
}

/// Builds a random world from `seed`; the same seed builds the same world on any backend.
async fn build(db: &Db, seed: u64) -> World {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut w = World::default();

    for t in 0..2 {
        let tenant = db
            .create_tenant(&format!("w{seed}t{t}"), &format!("Tenant {t}"))
            .await
            .unwrap();
        let mut tm = TenantModel {
            id: tenant.id,
            ..Default::default()
        };
        for o in 0..rng.gen_range(3..=5) {
            let kind = *OrgKind::ALL.choose(&mut rng).unwrap();
            let org = db
                .create_organisation(tenant.id, &format!("Org {t}.{o}"), kind)
                .await
                .unwrap();
            tm.orgs.push(org.id);
        }
        for u in 0..rng.gen_range(8..=12) {
            // The first user of each tenant can always start families.
            let roles = if u == 0 {
                vec![Role::Practitioner]
            } else {
                random_roles(&mut rng)
            };
            let org = *tm.orgs.choose(&mut rng).unwrap();
            let user = db
                .create_user(&NewUser {
                    tenant_id: tenant.id,
                    organisation_id: org,
                    team_id: None,
                    email: format!("w{seed}-t{t}-u{u}@example.org"),
                    display_name: format!("User {t}.{u}"),
                    profession: *Profession::ALL.choose(&mut rng).unwrap(),
                    roles: roles.clone(),
                    password_hash: "not-a-real-hash".into(),
                })
                .await
                .unwrap();
            tm.users.push((user.id, org, roles));
        }
        let practitioners: Vec<(i64, i64)> = tm
            .users
            .iter()
            .filter(|(_, _, r)| r.contains(&Role::Practitioner))
            .map(|(u, o, _)| (*u, *o))
            .collect();
        for f in 0..rng.gen_range(10..=20) {
            let (user_id, organisation_id) = *practitioners.choose(&mut rng).unwrap();
            let on = day(rng.gen_range(0..30));
            let fam = db
                .create_family(
                    tenant.id,
                    &format!("Family {t}.{f}"),
                    &Creator {
                        user_id,
                        organisation_id,
                        service: "Family support".into(),
                    },
                    on,
                )
                .await
                .unwrap();
            let inv = db.involvements(fam.id).await.unwrap();
            assert_eq!(inv.len(), 1, "the creator's organisation is involved");
            assert_eq!(
                db.team(fam.id).await.unwrap()[0].user_id,
                user_id,
                "the creator joins the team"
            );
            tm.families.push(w.families.len());
            w.families.push(FamilyModel {
                id: fam.id,
                tenant_id: tenant.id,
                lead: None,
                team: vec![(user_id, true)],
                involvements: vec![(inv[0].id, organisation_id, true)],
                referrals: vec![],
                glass: vec![],
                sealed: false,
            });
        }
        w.tenants.push(tm);
    }

    // Changes over time, now and then reaching across tenants as a bad import might.
    for step in 0..160 {
        let t = rng.gen_range(0..2);
        let other = 1 - t;
        let fi = *w.tenants[t].families.choose(&mut rng).unwrap();
        let on = day(40 + step);
        let user_from = |rng: &mut StdRng, w: &World| {
            let tt = if rng.gen_bool(0.05) { other } else { t };
            w.tenants[tt].users.choose(rng).unwrap().0
        };
        match rng.gen_range(0..12) {
            0 | 1 => {
                let u = user_from(&mut rng, &w);
                db.add_team_member(w.families[fi].id, u, on).await.unwrap();
                w.families[fi].team.push((u, true));
            }
            2 => {
                let candidates: Vec<i64> = w.families[fi]
                    .team
                    .iter()
                    .filter(|(_, open)| *open)
                    .map(|(u, _)| *u)
                    .collect();
                let Some(&u) = candidates.choose(&mut rng) else {
                    continue;
                };
                db.end_team_member(w.families[fi].id, u, on).await.unwrap();
                for row in w.families[fi].team.iter_mut().filter(|r| r.0 == u) {
                    row.1 = false;
                }
            }
            3 => {
                let u = user_from(&mut rng, &w);
                db.set_lead(w.families[fi].id, u, on).await.unwrap();
                let f = &mut w.families[fi];
                f.lead = Some(u);
                if !f.team.iter().any(|&(x, open)| x == u && open) {
                    f.team.push((u, true));
                }
            }
            4 => {
                let tt = if rng.gen_bool(0.05) { other } else { t };
                let org = *w.tenants[tt].orgs.choose(&mut rng).unwrap();
                let id = db.add_involvement(w.families[fi].id, org, "Support", on).await.unwrap();
                w.families[fi].involvements.push((id, org, true));
            }
            5 => {
                let open: Vec<usize> = (0..w.families[fi].involvements.len())
                    .filter(|&i| w.families[fi].involvements[i].2)
                    .collect();
                let Some(&i) = open.choose(&mut rng) else {
                    continue;
                };
                db.end_involvement(w.families[fi].involvements[i].0, on).await.unwrap();
                w.families[fi].involvements[i].2 = false;
            }
            6 => {
                let id = db.open_referral(w.tenants[t].id, w.families[fi].id).await.unwrap();
                w.families[fi].referrals.push((id, true));
            }
            7 => {
                let open: Vec<usize> = (0..w.families[fi].referrals.len())
                    .filter(|&i| w.families[fi].referrals[i].1)
                    .collect();
                let Some(&i) = open.choose(&mut rng) else {
                    continue;
                };
                db.close_referral(w.families[fi].referrals[i].0).await.unwrap();
                w.families[fi].referrals[i].1 = false;
            }
            9 => {
                // A break-glass, in force or expired.
                let u = user_from(&mut rng, &w);
                let live = rng.gen_bool(0.7);
                let now = kindred_store::now_ms();
                let expires = if live { now + 3_600_000 } else { now - 1 };
                testing::execute(
                    db,
                    &format!(
                        "INSERT INTO access_overrides (tenant_id, family_id, user_id, kind, reason, started_at_ms, expires_at_ms)
                         VALUES ({}, {}, {u}, 'break_glass', 'Emergency', {}, {expires})",
                        w.tenants[t].id,
                        w.families[fi].id,
                        now - 60_000
                    ),
                )
                .await
                .unwrap();
                if live {
                    w.families[fi].glass.push(u);
                }
            }
            10 => {
                if rng.gen_bool(0.5) {
                    let f = &mut w.families[fi];
                    f.sealed = !f.sealed;
                    testing::execute(
                        db,
                        &format!("UPDATE families SET sealed = {} WHERE id = {}", f.sealed, f.id),
                    )
                    .await
                    .unwrap();
                }
            }
            11 => {
                // An agreement between the tenants, which may or may not let them cross.
                let orgs = vec![
                    *w.tenants[0].orgs.choose(&mut rng).unwrap(),
                    *w.tenants[1].orgs.choose(&mut rng).unwrap(),
                ];
                let basis = if rng.gen_bool(0.8) { "public_task" } else { "consent" };
                let categories = if rng.gen_bool(0.8) {
                    "case_notes,identity"
                } else {
                    "case_notes"
                };
                let purposes = if rng.gen_bool(0.9) {
                    "hub_contact,early_help_sharing"
                } else {
                    "hub_contact"
                };
                let ends = if rng.gen_bool(0.8) { "NULL" } else { "'2024-01-02'" };
                let crosses = basis != "consent"
                    && categories.contains("identity")
                    && purposes.contains("early")
                    && ends == "NULL";
                let id = 1000 + w.agreements.len() as i64;
                let by = w.tenants[0].users[0].0;
                testing::execute(
                    db,
                    &format!(
                        "INSERT INTO sharing_agreements (id, tenant_id, title, lawful_basis, purposes, categories, starts_on,
                         ends_on, created_by_user_id, created_at_ms)
                         VALUES ({id}, {}, 'Bi-borough', '{basis}', '{purposes}', '{categories}', '2024-01-01', {ends}, {by}, 0)",
                        w.tenants[0].id
                    ),
                )
                .await
                .unwrap();
                for o in &orgs {
                    testing::execute(
                        db,
                        &format!(
                            "INSERT INTO sharing_agreement_parties (agreement_id, organisation_id) VALUES ({id}, {o})"
                        ),
                    )
                    .await
                    .unwrap();
                }
                w.agreements.push((crosses, orgs));
            }
            _ => {
                let u = w.tenants[t].users.choose(&mut rng).unwrap().0;
                // Mostly disabling; now and then someone comes back.
                let active = w.inactive.contains(&u) && rng.gen_bool(0.3);
                db.set_user_active(u, active).await.unwrap();
                if active {
                    w.inactive.remove(&u);
                } else {
                    w.inactive.insert(u);
                }
            }
        }
    }

    // People in families, some of whom have left.
    let givens = ["Amira", "Ben", "Chloe", "Dev", "Ella", "Finn", "Grace"];
    for t in 0..2 {
        for _ in 0..rng.gen_range(6..=15) {
            let p = db
                .create_person(w.tenants[t].id, &person(givens.choose(&mut rng).unwrap()))
                .await
                .unwrap();
            w.tenants[t].persons.push(p.id);
            for _ in 0..rng.gen_range(0..=3) {
                let fi = *w.tenants[t].families.choose(&mut rng).unwrap();
                let fid = w.families[fi].id;
                if w.memberships.contains(&(p.id, fid)) {
                    continue;
                }
                db.add_member(fid, p.id, MemberRole::Child, day(200)).await.unwrap();
                w.memberships.insert((p.id, fid));
                if rng.gen_bool(0.2) {
                    db.end_membership(fid, p.id, day(220)).await.unwrap();
                }
            }
        }
    }
    w
}

fn expected_facts(w: &World, f: &FamilyModel) -> FamilyFacts {
    let mut team: Vec<i64> = f.team.iter().filter(|(_, open)| *open).map(|(u, _)| *u).collect();
    team.sort();
    let mut orgs: Vec<i64> = f
        .involvements
        .iter()
        .filter(|(_, _, open)| *open)
        .map(|(_, o, _)| *o)
        .collect();
    orgs.sort();
    FamilyFacts {
        family_id: f.id,
        tenant_id: f.tenant_id,
        lead_user_id: f.lead,
        team_user_ids: team,
        involved_organisation_ids: orgs,
        open_referral: f.referrals.iter().any(|(_, open)| *open),
        sealed: f.sealed,
        break_glass_user_ids: {
            let mut g = f.glass.clone();
            g.sort();
            g
        },
        partner_organisation_ids: {
            let own = &w.tenants.iter().find(|t| t.id == f.tenant_id).unwrap().orgs;
            let mut p: Vec<i64> = w
                .agreements
                .iter()
                .filter(|(crosses, orgs)| *crosses && orgs.iter().any(|o| own.contains(o)))
                .flat_map(|(_, orgs)| orgs.iter().copied().filter(|o| !own.contains(o)))
                .collect();
            p.sort();
            p.dedup();
            p
        },
    }
}

fn relationship(s: &Subject, f: &FamilyFacts) -> bool {
    let named = f.lead_user_id == Some(s.user_id) || f.team_user_ids.contains(&s.user_id);
    if s.tenant_id != f.tenant_id {
        // Across tenants only a named worker of a partner organisation.
        return named && f.partner_organisation_ids.contains(&s.organisation_id);
    }
    named
        || f.involved_organisation_ids.contains(&s.organisation_id)
        || (s.has(Role::Triage) && f.open_referral)
        || (f.break_glass_user_ids.contains(&s.user_id) && !f.sealed)
}

fn describe(s: &Subject, f: &FamilyFacts) -> String {
    format!(
        "user {} (tenant {}, org {}, roles {:?}, active {}) / family {} (tenant {}, lead {:?}, team {:?}, orgs {:?}, open referral {})",
        s.user_id,
        s.tenant_id,
        s.organisation_id,
        s.roles,
        s.active,
        f.family_id,
        f.tenant_id,
        f.lead_user_id,
        f.team_user_ids,
        f.involved_organisation_ids,
        f.open_referral
    )
}

async fn check(db: &Db, w: &World, tally: &mut Tally) {
    let b = db.backend();
    // The facts the store gathers are the ones recorded.
    let mut facts = vec![];
    for fm in &w.families {
        let mut f = db.family_facts(fm.id).await.unwrap().expect("family exists");
        f.team_user_ids.sort();
        f.involved_organisation_ids.sort();
        f.break_glass_user_ids.sort();
        f.partner_organisation_ids.sort();
        f.partner_organisation_ids.dedup();
        let want = expected_facts(w, fm);
        assert_eq!(
            (f.sealed, &f.break_glass_user_ids, &f.partner_organisation_ids),
            (want.sealed, &want.break_glass_user_ids, &want.partner_organisation_ids),
            "{b:?}: sealing, break-glass and partners of family {}",
            fm.id
        );
        assert_eq!(
            (
                f.family_id,
                f.tenant_id,
                f.lead_user_id,
                &f.team_user_ids,
                &f.involved_organisation_ids,
                f.open_referral
            ),
            (
                want.family_id,
                want.tenant_id,
                want.lead_user_id,
                &want.team_user_ids,
                &want.involved_organisation_ids,
                want.open_referral
            ),
            "{b:?}: facts of family {}",
            fm.id
        );
        facts.push(f);
    }
    // The batch read used by search and lists gathers the same facts, and
    // nothing for a family that does not exist.
    let mut ids: Vec<i64> = w.families.iter().map(|f| f.id).collect();
    ids.push(i64::MAX);
    let many = db.family_facts_many(&ids).await.unwrap();
    assert_eq!(many.len(), w.families.len(), "{b:?}: one set of facts per family");
    for f in &facts {
        let mut m = many.get(&f.family_id).expect("facts of every family").clone();
        m.team_user_ids.sort();
        m.involved_organisation_ids.sort();
        m.break_glass_user_ids.sort();
        m.partner_organisation_ids.sort();
        m.partner_organisation_ids.dedup();
        assert_eq!(
            format!("{m:?}"),
            format!("{f:?}"),
            "{b:?}: batch facts of family {}",
            f.family_id
        );
    }
    let everyone = SearchCriteria {
        name: Some(FAMILY_NAME.to_lowercase()),
        ..Default::default()
    };

    for tm in &w.tenants {
        for (uid, org, roles) in &tm.users {
            let user = db.user(*uid).await.unwrap();
            assert_eq!(user.active, !w.inactive.contains(uid), "{b:?}: user {uid}");
            assert_eq!((user.organisation_id, &user.roles), (*org, roles));
            let s = user.subject();
            let admin_only = !s.roles.is_empty() && s.roles.iter().all(|r| *r == Role::Admin);

            // (a) The policy never grants without a working relationship in the tenant.
            let mut allowed = BTreeSet::new();
            for f in &facts {
                tally.pairs += 1;
                let d = access::family(&s, f, FamilyAction::View);
                if let Decision::Allow(basis) = d {
                    let ctx = describe(&s, f);
                    assert!(s.active, "{b:?}: inactive user allowed: {ctx}");
                    assert!(!admin_only, "{b:?}: administrator allowed: {ctx}");
                    assert!(s.roles.iter().any(|r| *r != Role::Admin), "{b:?}: no case role: {ctx}");
                    assert!(relationship(&s, f), "{b:?}: no relationship: {ctx}");
                    *tally.allowed.entry(basis.code()).or_default() += 1;
                    if s.tenant_id != f.tenant_id {
                        *tally.allowed.entry("across_tenants").or_default() += 1;
                    }
                    allowed.insert(f.family_id);
                }
            }

            // (b) The SQL mirror lists exactly what the policy allows.
            let (list, total) = db.visible_families(&s, 10_000, 0).await.unwrap();
            let listed: BTreeSet<i64> = list.iter().map(|f| f.id).collect();
            assert_eq!(listed.len(), list.len(), "{b:?}: a family listed twice");
            assert_eq!(total, Total::Exactly(list.len() as i64), "{b:?}: total of user {uid}");
            if listed != allowed {
                for fid in listed.symmetric_difference(&allowed) {
                    let f = facts.iter().find(|f| f.family_id == *fid).unwrap();
                    tally.disagreements.push(format!(
                        "{b:?}: SQL {} but policy {}: {}",
                        if listed.contains(fid) { "lists" } else { "omits" },
                        if allowed.contains(fid) { "allows" } else { "denies" },
                        describe(&s, f)
                    ));
                }
            }
            // Paging walks the same list in the same order.
            let mut paged = vec![];
            for page in 0.. {
                let (rows, t) = db.visible_families(&s, 7, page * 7).await.unwrap();
                assert_eq!(t, total);
                if rows.is_empty() {
                    break;
                }
                paged.extend(rows.into_iter().map(|f| f.id));
            }
            assert_eq!(paged, list.iter().map(|f| f.id).collect::<Vec<_>>(), "{b:?}: paging");

            // (c) Search shows only families the policy allows (and all of them).
            let hits = db.search_persons(&s, &everyone, 10_000).await.unwrap();
            tally.searches += 1;
            let mut found = BTreeSet::new();
            for h in &hits {
                assert_eq!(h.person.tenant_id, s.tenant_id, "{b:?}: person across tenants");
                assert!(!h.families.is_empty(), "{b:?}: a hit with no visible family");
                for (fid, _) in &h.families {
                    let f = facts.iter().find(|f| f.family_id == *fid).unwrap();
                    if !access::family(&s, f, FamilyAction::View).allowed() {
                        tally.disagreements.push(format!(
                            "{b:?}: search shows person {} in a family the policy refuses: {}",
                            h.person.id,
                            describe(&s, f)
                        ));
                    }
                    found.insert((h.person.id, *fid));
                }
            }
            tally.search_hits += found.len() as u64;
            // Everyone in a listed family is found, through every listed family
            // they belong or belonged to (so where the list agrees with the
            // policy, search does too).
            let want: BTreeSet<(i64, i64)> = w
                .memberships
                .iter()
                .copied()
                .filter(|(p, f)| listed.contains(f) && tm.persons.contains(p))
                .collect();
            assert_eq!(found, want, "{b:?}: search for everyone by user {uid}");
            tally.users += 1;
        }
    }
    tally.families += w.families.len() as u64;
    tally.worlds += 1;
}

#[tokio::test]
async fn storage_agrees_with_the_access_policy_in_random_worlds() {
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for seed in 0..WORLDS {
        let dbs = if seed < POSTGRES_WORLDS {
            testing::fresh_databases().await
        } else {
            vec![testing::fresh_sqlite().await]
        };
        for db in dbs {
            let world = build(&db, seed).await;
            let tally = tallies.entry(format!("{:?}", db.backend())).or_default();
            check(&db, &world, tally).await;
            db.close().await;
        }
    }
    let mut disagreements = vec![];
    for (backend, t) in &tallies {
        println!(
            "{backend}: {} worlds, {} users, {} families, {} user-family pairs; allowed by basis {:?}; {} searches showing {} person-family pairs; {} SQL/policy disagreements",
            t.worlds,
            t.users,
            t.families,
            t.pairs,
            t.allowed,
            t.searches,
            t.search_hits,
            t.disagreements.len()
        );
        disagreements.extend(t.disagreements.iter().cloned());
    }
    for d in disagreements.iter().take(10) {
        println!("{d}");
    }
    assert!(
        disagreements.is_empty(),
        "the SQL mirror disagrees with the access policy {} times (first ones above)",
        disagreements.len()
    );
}
