//! Transitions in the demo (F19): transition-plan tasks for half of each
//! borough's young people approaching 18, and, in two of the families the
//! early help worker (or, in a borough without one, the manager) works with,
//! a 17-year-old turning 18 in about four months with no task yet and one
//! turning 18 in about two months whose task is made — so `/transitions`
//! shows both for the early help worker and their manager.

use kindred_domain::model::{MemberRole, Sex};
use kindred_domain::transition;
use kindred_store::Db;
use kindred_store::persons::PersonDetails;
use time::Date;

use crate::Partnership;

pub(crate) async fn seed(db: &Db, p: &Partnership, today: Date) -> anyhow::Result<()> {
    let people = db.approaching_18(p.tenant_id, None, today).await?;
    let half: Vec<_> = people.iter().step_by(2).cloned().collect();
    db.create_transition_plans(&half, today, None).await?;

    let Some(&worker) = p.named.get("earlyhelp").or_else(|| p.named.get("manager")) else {
        return Ok(());
    };
    let user = db.user(worker).await?;
    let (families, _) = db.visible_families(&user.subject(), 200, 0).await?;
    let ids: Vec<i64> = families.iter().map(|f| f.id).collect();
    let facts = db.family_facts_many(&ids).await?;
    // Families the worker's organisation is involved with, so their manager sees them too.
    let chosen: Vec<_> = families
        .iter()
        .filter(|f| {
            facts
                .get(&f.id)
                .is_some_and(|x| x.involved_organisation_ids.contains(&user.organisation_id))
        })
        .take(2)
        .collect();
    for (n, f) in chosen.into_iter().enumerate() {
        let surname = f.name.trim_end_matches(" household").to_string();
        let (given, months) = if n == 0 { ("Jordan", 4) } else { ("Riley", 2) };
        // Turns 18 `months` months from today.
        let dob = transition::add_months(today, months - 18 * 12);
        let person = db
            .create_person(
                p.tenant_id,
                &PersonDetails {
                    given_name: given.into(),
                    family_name: surname,
                    preferred_name: None,
                    date_of_birth: Some(dob),
                    expected_delivery: None,
                    sex: Sex::Unknown,
                    nhs_number: None,
                    upn: None,
                    language: Some("English".into()),
                    interpreter_needed: false,
                    send: false,
                },
            )
            .await?;
        db.add_member(f.id, person.id, MemberRole::Child, today).await?;
        if n == 1 {
            let with_task: Vec<_> = db
                .approaching_18(p.tenant_id, None, today)
                .await?
                .into_iter()
                .filter(|y| y.person_id == person.id)
                .collect();
            db.create_transition_plans(&with_task, today, None).await?;
        }
    }
    Ok(())
}
