//! Restricted persons, flags and alerts in the demo (issue 5): in each
//! borough a family whose mother, a survivor of domestic abuse, is restricted
//! (only the lead professional, the health visitor demo account, may see her
//! address and contact details); each tenant's alert rule (a child protection
//! enquiry alerts adult mental health); and in Westminster a family where
//! children's social care raised a child protection enquiry, so adult mental
//! health — and the health visitor in the team, by a second rule — have an
//! alert task in their inbox.

use kindred_domain::Postcode;
use kindred_domain::model::{FlagKind, MemberRole, OrgKind, Sex};
use kindred_store::Db;
use kindred_store::families::Creator;
use kindred_store::flags::{NewAlertRule, NewFlag};
use kindred_store::persons::{NewAddress, PersonDetails};
use kindred_store::restricted::PersonContact;
use time::Date;

use crate::Partnership;

pub(crate) fn person(given: &str, family: &str, dob: Date, sex: Sex) -> PersonDetails {
    PersonDetails {
        given_name: given.into(),
        family_name: family.into(),
        preferred_name: None,
        date_of_birth: Some(dob),
        expected_delivery: None,
        sex,
        nhs_number: None,
        upn: None,
        language: Some("English".into()),
        interpreter_needed: false,
        send: false,
    }
}

async fn address(db: &Db, person_id: i64, line1: &str, postcode: &str, today: Date) -> anyhow::Result<()> {
    db.move_person(
        person_id,
        &NewAddress {
            line1: line1.into(),
            line2: None,
            town: "London".into(),
            postcode: Postcode::parse(postcode)?,
            from_date: today,
        },
    )
    .await?;
    Ok(())
}

pub(crate) async fn seed(db: &Db, p: &Partnership, today: Date) -> anyhow::Result<()> {
    let Some(&hv) = p.named.get("hv") else {
        return Ok(());
    };
    let hv_org = p.org_of[&hv];
    let district = p.districts.first().copied().unwrap_or("W2");
    let years_ago = |y: i32| today.replace_year(today.year() - y).unwrap_or(today);

    // The restricted family: the health visitor leads; only she may see where the mother lives.
    let family = db
        .create_family(
            p.tenant_id,
            "Hartley household",
            &Creator {
                user_id: hv,
                organisation_id: hv_org,
                service: "Health visiting".into(),
            },
            today,
        )
        .await?
        .id;
    db.set_lead(family, hv, today).await?;
    let mum = db
        .create_person(p.tenant_id, &person("Nadia", "Hartley", years_ago(31), Sex::Female))
        .await?
        .id;
    let baby = db
        .create_person(p.tenant_id, &person("Leo", "Hartley", years_ago(1), Sex::Male))
        .await?
        .id;
    let gran = db
        .create_person(p.tenant_id, &person("Carol", "Hartley", years_ago(62), Sex::Female))
        .await?
        .id;
    for (id, role) in [
        (mum, MemberRole::Parent),
        (baby, MemberRole::Child),
        (gran, MemberRole::Grandparent),
    ] {
        db.add_member(family, id, role, today).await?;
    }
    let refuge = format!("{district} 4RS");
    address(db, mum, "Flat 3, 12 Cedar Court", &refuge, today).await?;
    address(db, baby, "Flat 3, 12 Cedar Court", &refuge, today).await?;
    address(db, gran, "41 Mulberry Road", &format!("{district} 6TJ"), today).await?;
    db.set_person_contact(
        mum,
        &PersonContact {
            phone: Some("07700 900417".into()),
            email: Some("nadia.h@example.org".into()),
        },
    )
    .await?;
    db.set_person_contact(
        gran,
        &PersonContact {
            phone: Some("020 7946 0321".into()),
            email: None,
        },
    )
    .await?;
    db.mark_restricted(mum, hv).await?;

    // The alert rule.
    let admin = p.named.get("admin").copied().unwrap_or(hv);
    db.add_alert_rule(&NewAlertRule {
        tenant_id: p.tenant_id,
        trigger_flag: FlagKind::ChildProtectionEnquiry.code().into(),
        involved_org_kind: OrgKind::AdultMentalHealth.code().into(),
        task_title: "Child protection enquiry opened: check on the parent you support".into(),
        created_by_user_id: admin,
    })
    .await?;
    let hv_name = p.names.get(&hv).cloned().unwrap_or_default();
    println!(
        "A restricted person ({}): Nadia Hartley in /families/{family}; only {hv_name} (hv@) may see her address",
        p.code
    );

    // Westminster: a child protection enquiry alerts adult mental health and the health visitor.
    let (Some(&sw), Some(amh_org)) = (
        p.named.get("socialworker"),
        p.orgs.get(&OrgKind::AdultMentalHealth).and_then(|o| o.first().copied()),
    ) else {
        return Ok(());
    };
    db.add_alert_rule(&NewAlertRule {
        tenant_id: p.tenant_id,
        trigger_flag: FlagKind::ChildProtectionEnquiry.code().into(),
        involved_org_kind: OrgKind::HealthVisiting.code().into(),
        task_title: "Child protection enquiry opened: review your contacts with the family".into(),
        created_by_user_id: admin,
    })
    .await?;
    let family = db
        .create_family(
            p.tenant_id,
            "Fenwick household",
            &Creator {
                user_id: sw,
                organisation_id: p.org_of[&sw],
                service: "Children's social care".into(),
            },
            today,
        )
        .await?
        .id;
    db.set_lead(family, sw, today).await?;
    db.add_team_member(family, hv, today).await?;
    db.add_involvement(family, hv_org, "Health visiting", today).await?;
    db.add_involvement(family, amh_org, "Community mental health", today)
        .await?;
    if let Some(&amh_worker) = p.workers.get(&amh_org).and_then(|w| w.first()) {
        db.add_team_member(family, amh_worker, today).await?;
    }
    let dad = db
        .create_person(p.tenant_id, &person("Gareth", "Fenwick", years_ago(38), Sex::Male))
        .await?
        .id;
    let child = db
        .create_person(p.tenant_id, &person("Ivy", "Fenwick", years_ago(4), Sex::Female))
        .await?
        .id;
    db.add_member(family, dad, MemberRole::Parent, today).await?;
    db.add_member(family, child, MemberRole::Child, today).await?;
    address(db, dad, "8 Juniper Walk", &format!("{district} 2LP"), today).await?;
    address(db, child, "8 Juniper Walk", &format!("{district} 2LP"), today).await?;
    let flag = db
        .raise_flag(&NewFlag {
            tenant_id: p.tenant_id,
            family_id: family,
            person_id: Some(child),
            kind: FlagKind::ChildProtectionEnquiry.code().into(),
            description: "Section 47 enquiry opened after a strategy discussion".into(),
            raised_by_user_id: sw,
            raised_on: today,
        })
        .await?;
    let alerts = db.raise_alerts(flag, today).await?;
    println!(
        "A child protection enquiry flag ({}): /families/{family}; {} alert task(s), one in {hv_name}'s inbox (/tasks)",
        p.code,
        alerts.len()
    );
    Ok(())
}
