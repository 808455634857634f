//! Retention in the demo (issue 9): in each borough, families whose work
//! ended years ago — an early help episode closed, a closing visit, nothing
//! since — so the privacy officer finds them flagged at /privacy/retention.
//! Westminster has set its rule to six years, and its officer has already
//! kept one family (a younger sibling is still known to CAMHS) and erased
//! another; Kensington and Chelsea uses the default.

use kindred_domain::Postcode;
use kindred_domain::model::{MemberRole, Sex};
use kindred_store::Db;
use kindred_store::contacts::NewContact;
use kindred_store::episodes::{EpisodeUpdate, NewEpisodeEvent};
use kindred_store::families::{Actor, Creator, Household, NewMember};
use kindred_store::persons::NewAddress;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use time::{Date, Duration};

use crate::Partnership;
use crate::names::{BOYS, GIRLS, STREETS, SURNAMES, WOMEN};

/// Quiet families made in each borough.
const QUIET: usize = 8;

fn member(given: &str, family: &str, born: Date, sex: Sex, role: MemberRole, home: &NewAddress) -> NewMember {
    NewMember {
        details: crate::restricted::person(given, family, born, sex),
        role,
        contact: Default::default(),
        address: Some(home.clone()),
    }
}

/// What the borough's privacy officer will find; one line for `kindred demo` to print.
pub async fn seed(db: &Db, p: &Partnership, rng: &mut ChaCha8Rng, today: Date) -> anyhow::Result<String> {
    let worker = p
        .named
        .get("earlyhelp")
        .copied()
        .unwrap_or(*p.names.keys().next().expect("workers"));
    let creator = Creator {
        user_id: worker,
        organisation_id: p.org_of[&worker],
        service: "Early help".into(),
    };
    let actor = Actor {
        tenant_id: p.tenant_id,
        user_id: worker,
        route: "demo".into(),
    };
    let mut made = vec![];
    for n in 0..QUIET {
        let surname = SURNAMES[rng.gen_range(0..SURNAMES.len())];
        // The episode opened 8 to 11 years ago and closed after a year.
        let opened = today - Duration::days(365 * rng.gen_range(8..=11) + rng.gen_range(0..300));
        let closed = opened + Duration::days(rng.gen_range(200..400));
        let district = p.districts[n % p.districts.len()];
        let postcode = Postcode::parse(&format!("{district} {}{}", 1 + n % 9, ["AB", "DF", "HJ", "LN"][n % 4]))?;
        let home = NewAddress {
            line1: format!("{} {}", 2 + n * 7, STREETS[rng.gen_range(0..STREETS.len())]),
            line2: None,
            town: "London".into(),
            postcode,
            from_date: opened,
        };
        let mum = member(
            WOMEN[rng.gen_range(0..WOMEN.len())],
            surname,
            opened - Duration::days(365 * 28),
            Sex::Female,
            MemberRole::Parent,
            &home,
        );
        let (family, mum) = db
            .add_new_person(
                Household::New {
                    name: &format!("{surname} household"),
                    creator: &creator,
                },
                &mum,
                opened,
                &actor,
            )
            .await?;
        let mut present = vec![mum.id];
        for (i, names) in [GIRLS, BOYS].iter().enumerate().take(rng.gen_range(1..=2)) {
            let child = member(
                names[rng.gen_range(0..names.len())],
                surname,
                opened - Duration::days(365 * (3 + 4 * i as i64)),
                if i == 0 { Sex::Female } else { Sex::Male },
                MemberRole::Child,
                &home,
            );
            let (_, child) = db
                .add_new_person(Household::Existing(family), &child, opened, &actor)
                .await?;
            present.push(child.id);
        }
        let episode = db
            .open_episode(
                p.tenant_id,
                family,
                None,
                Some(worker),
                "targeted",
                Some(worker),
                opened,
            )
            .await?;
        db.update_episode(
            episode,
            &EpisodeUpdate {
                status: "closed",
                stage: "closure",
                level: "targeted",
                lead_user_id: Some(worker),
                closed_on: Some(closed),
                close_reason: Some("Needs met; the family agreed to close".into()),
                outcome: Some("needs_met"),
            },
            &NewEpisodeEvent {
                by_user_id: Some(worker),
                kind: "closed",
                from_value: None,
                to_value: None,
                detail: "Needs met".into(),
            },
        )
        .await?;
        db.add_contact(&NewContact {
            tenant_id: p.tenant_id,
            family_id: family,
            organisation_id: creator.organisation_id,
            author_user_id: worker,
            occurred_on: closed,
            mode: "home_visit",
            visibility: "team",
            body: "Closing visit: routines are settled, school attendance is good, and the family knows how to come back to the hub.".into(),
            people: present,
            readers: vec![],
        })
        .await?;
        db.set_family_last_activity(family, closed).await?;
        made.push(family);
    }
    if p.code != "westminster" {
        return Ok(format!(
            "{}: {} families flagged under the default rule",
            p.code,
            db.retention_due(p.tenant_id, today, 0).await?.1
        ));
    }
    db.set_retention_rule(p.tenant_id, 6, None).await?;
    let officer = p.named.get("privacy").copied().unwrap_or(worker);
    let officer = Actor {
        tenant_id: p.tenant_id,
        user_id: officer,
        route: "demo".into(),
    };
    db.keep_family(
        made[0],
        today + Duration::days(365 * 2),
        "A younger sibling, now in another household, is still known to CAMHS; review again in two years.",
        today,
        &officer,
    )
    .await?;
    let erased = db
        .erase_family(
            made[1],
            "Retention period passed; no open work anywhere in the partnership.",
            today,
            &officer,
        )
        .await?;
    Ok(format!(
        "{}: {} families flagged under a six-year rule; one kept and one erased ({} people, {} records)",
        p.code,
        db.retention_due(p.tenant_id, today, 0).await?.1,
        erased.persons,
        erased.rows
    ))
}
