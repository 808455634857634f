//! Family plans for the demo, made through the real store calls: goals in the
//! family's words, actions for the team, an organisation and the family (some
//! done, some overdue), the family's own comments, a review, and a portal
//! invitation whose one-time code the demo prints.

use kindred_domain::plan::{ActionStatus, Owner};
use kindred_store::Db;
use kindred_store::plans::{Author, NewAction, NewGoal, NewReview};
use time::Duration;

/// Goals families set, in their words, with the assessment area and a starting score.
const GOALS: &[(&str, &str, u8)] = &[
    ("education", "The children get to school on time, every day", 3),
    ("housing", "We live somewhere without damp, and the bills are paid", 4),
    ("health", "Mum feels less low and has someone to talk to", 2),
    ("relationships", "Fewer arguments at bedtime", 5),
    (
        "early_years",
        "Our baby is talking more and we play together every day",
        4,
    ),
    ("finance", "We know what money is coming in and nothing is cut off", 3),
];

/// What each goal's actions are: (description, owner kind, days from today when due, status).
/// Owner kind: 0 the lead, 1 another team member, 2 an organisation involved, 3 a parent.
const ACTIONS: &[&[(&str, u8, i64, ActionStatus)]] = &[
    &[
        (
            "Meet the school's attendance lead with Mum",
            0,
            -9,
            ActionStatus::NotStarted,
        ),
        (
            "Set two alarms and lay out uniforms the night before",
            3,
            14,
            ActionStatus::InProgress,
        ),
        ("Offer a breakfast club place", 2, -30, ActionStatus::Done),
    ],
    &[
        (
            "Report the damp to the landlord in writing",
            3,
            -3,
            ActionStatus::InProgress,
        ),
        (
            "Housing options appointment about the repairs",
            2,
            21,
            ActionStatus::NotStarted,
        ),
    ],
    &[
        ("Ask the GP about talking therapies", 3, 10, ActionStatus::NotStarted),
        (
            "Introduce the perinatal mental health team",
            1,
            -5,
            ActionStatus::NotStarted,
        ),
    ],
    &[(
        "Try the bedtime routine chart for two weeks",
        3,
        7,
        ActionStatus::InProgress,
    )],
    &[
        (
            "Stay and play sessions at the family hub",
            2,
            28,
            ActionStatus::InProgress,
        ),
        (
            "Two-year review with the health visitor",
            1,
            40,
            ActionStatus::NotStarted,
        ),
    ],
    &[("Benefits check and a budgeting plan", 0, -14, ActionStatus::NotStarted)],
];

/// Makes a plan for a family with a lead professional. Returns a portal code
/// for one of its parents when `invite` is set.
pub(crate) async fn plan_for(
    db: &Db,
    tenant_id: i64,
    family_id: i64,
    seed: usize,
    invite: bool,
) -> anyhow::Result<Option<String>> {
    let family = db.family(family_id).await?;
    let Some(lead) = family.lead_user_id else {
        return Ok(None);
    };
    let today = kindred_store::today();
    let team: Vec<i64> = db
        .team(family_id)
        .await?
        .into_iter()
        .filter(|t| t.until_date.is_none() && t.user_id != lead)
        .map(|t| t.user_id)
        .collect();
    let orgs: Vec<i64> = db
        .involvements(family_id)
        .await?
        .into_iter()
        .filter(|i| i.ended_on.is_none())
        .map(|i| i.organisation_id)
        .collect();
    let members = db.members(family_id).await?;
    let Some(parent) = members
        .iter()
        .find(|m| {
            m.left_on.is_none()
                && matches!(
                    m.role,
                    kindred_domain::model::MemberRole::Parent | kindred_domain::model::MemberRole::Carer
                )
        })
        .map(|m| m.person.id)
    else {
        return Ok(None);
    };
    let chosen = [seed % GOALS.len(), (seed + 2) % GOALS.len(), (seed + 4) % GOALS.len()];
    let mut goals = vec![];
    for (n, &i) in chosen.iter().enumerate() {
        let (area, words, baseline) = GOALS[i];
        let goal = db
            .add_plan_goal(&NewGoal {
                tenant_id,
                family_id,
                area: area.into(),
                words: words.into(),
                baseline_score: Some(baseline),
                shared_with_family: true,
                by_user: lead,
            })
            .await?;
        goals.push((goal, baseline));
        for (k, &(description, owner, due, status)) in ACTIONS[i].iter().enumerate() {
            let owner = match owner {
                1 => team.get((seed + k) % team.len().max(1)).map(|u| Owner::Worker(*u)),
                2 => orgs
                    .get((seed + k) % orgs.len().max(1))
                    .map(|o| Owner::Organisation(*o)),
                3 => Some(Owner::FamilyMember(parent)),
                _ => None,
            }
            .unwrap_or(Owner::Worker(lead));
            let action = db
                .add_plan_action(&NewAction {
                    tenant_id,
                    family_id,
                    goal_id: goal,
                    description: description.into(),
                    owner,
                    due_on: today + Duration::days(due),
                    // The last goal's worker-only actions stay with the team.
                    shared_with_family: !(n == 2 && k > 0),
                    by_user: lead,
                })
                .await?;
            if status != ActionStatus::NotStarted {
                let (by, comment) = if owner == Owner::FamilyMember(parent) {
                    (Author::Person(parent), "Started this week, it is helping a bit")
                } else {
                    (Author::User(lead), "")
                };
                db.set_action_status(family_id, action, status, by, comment, today)
                    .await?;
            }
            if owner == Owner::Worker(lead) && due < 0 {
                db.add_plan_comment(
                    family_id,
                    action,
                    Author::Person(parent),
                    "Can we do this after half term?",
                )
                .await?;
            }
        }
    }
    db.add_plan_review(&NewReview {
        tenant_id,
        family_id,
        reviewed_on: today - Duration::days(20),
        by_user: lead,
        summary: "Met at home with both parents. Mornings are calmer; the damp is still not fixed. \
                  Agreed to keep the plan going and review again in six weeks."
            .into(),
        next_review_on: Some(today + Duration::days(22)),
        scores: goals.iter().map(|(g, b)| (*g, (b + 2).min(10))).collect(),
        goal_statuses: vec![],
    })
    .await?;
    if !invite {
        return Ok(None);
    }
    let invite = db
        .create_portal_invite(tenant_id, family_id, parent, None, lead)
        .await?;
    let code = kindred_web::passwords::issue_portal_code(db, invite).await?;
    Ok(Some(code))
}

/// Makes one family whose needs add up: three services each refer it with one
/// need in a different headline outcome, and triage signposts each — none
/// alone reaches the threshold. Picks the first candidate with no referral,
/// flag or open episode of its own, so that only these three count.
pub(crate) async fn needs_add_up_family(
    db: &Db,
    tenant_id: i64,
    candidates: &[i64],
    triage_user: i64,
) -> anyhow::Result<Option<i64>> {
    use kindred_domain::referral::{Level, Outcome, Route};
    use kindred_store::referrals::{NewDecision, NewReferral, ReferralDetails};
    for &family_id in candidates {
        let quiet = db.referrals_of_family(family_id).await?.is_empty()
            && db.recorded_needs(family_id, 0).await?.flags.is_empty()
            && db
                .episodes_of_family(family_id)
                .await?
                .iter()
                .all(|e| e.status != "open");
        let mut orgs: Vec<i64> = db
            .involvements(family_id)
            .await?
            .into_iter()
            .filter(|i| i.ended_on.is_none())
            .map(|i| i.organisation_id)
            .collect();
        orgs.dedup();
        if !quiet || orgs.len() < 3 {
            continue;
        }
        let needs = ["school_attendance", "housing", "parent_mental_health"];
        for (n, (org, need)) in orgs.iter().zip(needs).enumerate() {
            let r = db
                .create_referral(&NewReferral {
                    tenant_id,
                    route: Route::Professional,
                    referrer_user_id: None,
                    referrer_organisation_id: Some(*org),
                    referrer: Default::default(),
                    family_id: Some(family_id),
                    reference: format!("KR-ADDS-{family_id}-{n}"),
                })
                .await?;
            let details = ReferralDetails {
                needs: vec![need.to_string()],
                summary: "One concern of ours; the family may be known to others.".into(),
                ..Default::default()
            };
            db.update_referral_details(r.id, &details).await?;
            db.submit_referral(r.id, None, None).await?;
            db.decide_referral(
                r.id,
                &NewDecision {
                    user_id: triage_user,
                    level: Level::SingleAgency,
                    outcome: Outcome::Signpost,
                    rationale: "A single need; signposted to the universal offer.".into(),
                    detail: String::new(),
                    organisation_id: None,
                    lead_user_id: None,
                },
            )
            .await?;
        }
        return Ok(Some(family_id));
    }
    Ok(None)
}
