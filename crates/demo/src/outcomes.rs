//! The outcomes framework in the demo (issue 7, F15): every episode's needs
//! register — the referral's needs where it came through triage, a few from
//! the needs list otherwise —; closed episodes with each need's result and
//! its evidence, as the episode's outcome suggests; the six-month sustainment
//! checks of achieved outcomes, some done (mostly sustained), some due or
//! overdue, some still to come; and repeated family-led assessments for the
//! families of the early help worker and a share of the others, so distance
//! travelled shows.

use kindred_domain::assessment::default_areas;
use kindred_domain::episode::Status;
use kindred_domain::model::MemberRole;
use kindred_domain::outcomes::{NeedResult, sustainment_due};
use kindred_domain::referral::{NEEDS, Need};
use kindred_domain::task::Kind;
use kindred_store::Db;
use kindred_store::assessments::NewAssessment;
use kindred_store::bulk::{Batch, EpisodeEventRow, EpisodeRow};
use kindred_store::outcomes::{NeedRecord, NewNeed};
use kindred_store::tasks::NewTask;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::{Date, Duration};

use crate::Partnership;

/// What the demo made in one borough, for the summary and its test.
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    pub needs: u64,
    pub checks_due: u64,
    pub checks_done: u64,
    pub assessed_families: u64,
}

/// Evidence a worker might write for a result under each headline outcome.
fn evidence(outcome: &str, result: NeedResult) -> &'static str {
    use NeedResult::*;
    match (outcome, result) {
        ("education", Achieved) => "Attendance 94% over the last three terms (school register); no exclusions.",
        ("education", Progress) => "Attendance up from 78% to 87% this term; a part-time timetable is ending.",
        ("education", NotAchieved) => "Attendance still below 80%; the school has started legal proceedings.",
        ("early_years", Achieved) => {
            "ASQ-3 at the review above the cut-offs in every area; takes up a funded nursery place."
        }
        ("early_years", Progress) => "Speech and language therapy started; nursery reports more words.",
        ("early_years", NotAchieved) => "Missed the speech and language appointments; still on the waiting list.",
        ("health", Achieved) => "Under the care of the GP and talking therapies; says she feels much better.",
        ("health", Progress) => "Referred to CAMHS and seen for assessment; sleeping better.",
        ("health", NotAchieved) => "Declined the referral to mental health services.",
        ("substances", Achieved) => "Completed the recovery programme; negative tests for three months.",
        ("substances", Progress) => "Engaged with the drug and alcohol service; drinking less by his account.",
        ("substances", NotAchieved) => "Did not attend the assessment at the recovery service.",
        ("relationships", Achieved) => {
            "Completed the parenting programme together; no arguments in front of the children."
        }
        ("relationships", Progress) => "Started the reducing parental conflict sessions.",
        ("relationships", NotAchieved) => "Conflict continues; the family withdrew from the sessions.",
        ("safeguarding", Achieved) => "No missing episodes since March; the exploitation risk is now low (panel).",
        ("safeguarding", Progress) => "Fewer missing episodes; mentoring started.",
        ("safeguarding", NotAchieved) => "Further missing episodes; stepped up to children's social care.",
        ("crime", Achieved) => "No further offending in six months (police check); in a youth club twice a week.",
        ("crime", Progress) => "Working with the youth justice service; one incident since the plan.",
        ("crime", NotAchieved) => "Arrested again in May.",
        ("domestic_abuse", Achieved) => {
            "Safety plan in place; no incidents since the injunction; the children are settled."
        }
        ("domestic_abuse", Progress) => "Working with the IDVA; a safety plan is agreed.",
        ("domestic_abuse", NotAchieved) => "Further incident reported; MARAC referral made.",
        ("housing", Achieved) => "Moved to a settled tenancy; rent paid on time for six months.",
        ("housing", Progress) => "On the housing register; the arrears plan is being kept.",
        ("housing", NotAchieved) => "Eviction went ahead; the family is in temporary accommodation.",
        ("finance", Achieved) => "Debt advice completed and a repayment plan agreed; mum started part-time work.",
        ("finance", Progress) => "Benefits check done and Universal Credit corrected; debt advice booked.",
        ("finance", NotAchieved) => "Did not keep the appointments with debt advice.",
        (_, Achieved) => "Achieved, as the family and partners agreed at the closing review.",
        (_, Progress) => "Progress made, as the family and partners agreed at the closing review.",
        (_, NotAchieved) => "Not achieved by the time the episode closed.",
    }
}

/// The result a need likely had, given how its episode ended.
fn result_for(rng: &mut ChaCha8Rng, episode_outcome: Option<&str>) -> NeedResult {
    let roll: f64 = rng.r#gen();
    let (achieved, progress) = match episode_outcome {
        Some("needs_met") => (0.85, 1.0),
        Some("partly_met") => (0.4, 0.85),
        Some("moved_away") => (0.0, 0.5),
        Some("not_met" | "stepped_up" | "disengaged") => (0.0, 0.3),
        _ => (0.2, 0.8),
    };
    if roll < achieved {
        NeedResult::Achieved
    } else if roll < progress {
        NeedResult::Progress
    } else {
        NeedResult::NotAchieved
    }
}

/// Whom a need from the list is about: a child for a child's need, a parent for a parent's.
fn about(need: &Need, members: &[(i64, MemberRole)], rng: &mut ChaCha8Rng) -> Option<i64> {
    let child = matches!(
        need.code,
        "school_attendance"
            | "exclusion"
            | "send_support"
            | "early_development"
            | "child_mental_health"
            | "behaviour"
            | "young_carer"
            | "exploitation"
    );
    let parent = matches!(need.code, "parent_mental_health" | "worklessness");
    let role = if child {
        MemberRole::Child
    } else if parent {
        MemberRole::Parent
    } else {
        return None;
    };
    members
        .iter()
        .filter(|m| m.1 == role)
        .map(|m| m.0)
        .collect::<Vec<_>>()
        .choose(rng)
        .copied()
}

pub(crate) async fn seed(db: &Db, p: &Partnership, seed: u64, today: Date) -> anyhow::Result<Seeded> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Seeded::default();
    let eh = p.named.get("earlyhelp").copied();
    let episodes = db.episodes_of_tenant(p.tenant_id).await?;
    let seeded: Vec<i64> = db.episodes_with_needs(p.tenant_id).await?;
    let referral_ids: Vec<i64> = episodes.iter().filter_map(|e| e.referral_id).collect();
    let referral_needs = db.needs_of_referrals(&referral_ids).await?;
    let mut records = vec![];
    // (episode, lead, closed on) of closed episodes with an achieved need.
    let mut to_check: Vec<(i64, i64, i64, Date)> = vec![];
    let mut assess: Vec<(i64, i64, Date)> = vec![];
    for e in &episodes {
        let led_by_eh = eh.is_some() && e.lead_user_id == eh;
        if (led_by_eh || (e.id % 4 == 0 && assess.len() < 80))
            && let Some(lead) = e.lead_user_id
            && !assess.iter().any(|a| a.0 == e.family_id)
        {
            assess.push((e.family_id, lead, e.opened_on));
        }
        if seeded.contains(&e.id) {
            continue;
        }
        // The early help worker's families say whom each need is about.
        let members: Vec<(i64, MemberRole)> = if led_by_eh {
            db.members(e.family_id)
                .await?
                .into_iter()
                .filter(|m| m.left_on.is_none())
                .map(|m| (m.person.id, m.role))
                .collect()
        } else {
            vec![]
        };
        let mut needs: Vec<&Need> = referral_needs
            .iter()
            .filter(|(r, _)| Some(*r) == e.referral_id)
            .filter_map(|(_, code)| kindred_domain::referral::need(code))
            .collect();
        if needs.is_empty() {
            let n = rng.gen_range(1..=3);
            needs = NEEDS.choose_multiple(&mut rng, n).collect();
        }
        let closed = e.status == Status::Closed.code();
        let mut achieved = false;
        for need in needs {
            let result = match (closed, e.closed_on) {
                (true, Some(on)) => {
                    let r = result_for(&mut rng, e.outcome.as_deref());
                    achieved |= r == NeedResult::Achieved;
                    Some((
                        r.code(),
                        evidence(need.outcome.code(), r).to_string(),
                        on,
                        e.lead_user_id,
                    ))
                }
                _ => None,
            };
            records.push(NeedRecord {
                need: NewNeed {
                    tenant_id: p.tenant_id,
                    family_id: e.family_id,
                    episode_id: Some(e.id),
                    person_id: about(need, &members, &mut rng),
                    outcome_code: need.outcome.code().into(),
                    need_code: Some(need.code.into()),
                    referral_id: e.referral_id,
                    description: need.label.into(),
                    identified_on: e.opened_on,
                    identified_by_user_id: e.lead_user_id,
                },
                result,
                sustained: None,
            });
        }
        if let (true, Some(on), Some(lead)) = (achieved, e.closed_on, e.lead_user_id) {
            to_check.push((e.id, e.family_id, lead, on));
        }
    }
    // Checks whose time has come: about half done, three in four of those sustained.
    let mut done: Vec<i64> = vec![];
    for (eid, _, lead, closed) in &to_check {
        let due = sustainment_due(*closed);
        if due <= today && rng.gen_bool(0.5) {
            let on = (due + Duration::days(rng.gen_range(0..21))).min(today);
            for r in records
                .iter_mut()
                .filter(|r| r.need.episode_id == Some(*eid) && r.result.as_ref().is_some_and(|x| x.0 == "achieved"))
            {
                let held = rng.gen_bool(0.75);
                let words = if held {
                    "Checked with the family and the school: still going well."
                } else {
                    "Things slipped back over the winter; the family was offered support again."
                };
                r.sustained = Some((held, words.into(), on, Some(*lead)));
            }
            done.push(*eid);
        }
    }
    out.needs += db.load_family_needs(&records).await?;
    for (eid, family, lead, closed) in to_check {
        let task = db
            .add_task(&NewTask {
                tenant_id: p.tenant_id,
                kind: Kind::SustainmentCheck.code(),
                family_id: Some(family),
                episode_id: Some(eid),
                assigned_user_id: Some(lead),
                assigned_team_id: None,
                title: "Check whether the outcomes were sustained".into(),
                due_on: sustainment_due(closed),
                created_by_user_id: Some(lead),
            })
            .await?;
        if done.contains(&eid) {
            db.complete_task(task, lead).await?;
            out.checks_done += 1;
        } else if sustainment_due(closed) <= today {
            out.checks_due += 1;
        }
    }
    if let Some(eh) = eh {
        let families: Vec<i64> = episodes
            .iter()
            .filter(|e| e.lead_user_id == Some(eh))
            .map(|e| e.family_id)
            .collect();
        showcase(db, p, eh, &families, today, &mut out).await?;
    }
    // Repeated family-led assessments: scores that mostly rise.
    let areas: Vec<&str> = default_areas().iter().map(|a| a.code).collect();
    for (family, lead, opened) in assess {
        let mut on = (opened + Duration::days(7)).min(today);
        let chosen: Vec<&str> = areas.choose_multiple(&mut rng, 6).copied().collect();
        let mut scores: Vec<(String, u8)> = chosen.iter().map(|a| (a.to_string(), rng.gen_range(2..=6))).collect();
        let times = rng.gen_range(2..=3);
        for n in 0..times {
            if n > 0 {
                let next = on + Duration::days(rng.gen_range(60..120));
                if next > today {
                    break;
                }
                on = next;
                for s in &mut scores {
                    s.1 = (s.1 as i8 + rng.gen_range(-1i8..=3)).clamp(1, 10) as u8;
                }
            }
            db.create_assessment(&NewAssessment {
                tenant_id: p.tenant_id,
                family_id: family,
                author_user_id: lead,
                assessed_on: on,
                strengths: "We stick together and the children are close to their grandparents.".into(),
                changes: if n == 0 {
                    "Getting the children to school on time, and the rent arrears.".into()
                } else {
                    "Keeping the mornings calm; we are on top of the rent now.".into()
                },
                future: "The children happy at school, and a home we can stay in.".into(),
                scores: scores.iter().map(|(a, s)| (a.clone(), *s, String::new())).collect(),
            })
            .await?;
            if n == 1 {
                out.assessed_families += 1;
            }
        }
    }
    Ok(out)
}

const DAY: i64 = 24 * 60 * 60 * 1000;

/// Two earlier episodes of the early help worker's, told in full: one closed
/// seven and a half months ago whose sustainment check is overdue in their
/// inbox, and one closed over a year ago whose check is done — one outcome
/// sustained, one not.
async fn showcase(
    db: &Db,
    p: &Partnership,
    eh: i64,
    families: &[i64],
    today: Date,
    out: &mut Seeded,
) -> anyhow::Result<()> {
    let mut chosen: Vec<i64> = vec![];
    for f in families {
        if !chosen.contains(f) {
            chosen.push(*f);
        }
    }
    let now_ms = kindred_store::now_ms();
    let midnight = now_ms - now_ms.rem_euclid(DAY);
    let at = |days: i64| midnight - days * DAY + 14 * 3_600_000;
    let mut id = db.max_ids().await?.episode;
    let mut batch = Batch::default();
    type Story = (i64, i64, bool, &'static [(&'static str, NeedResult, Option<bool>)]);
    // (opened days ago, closed days ago, check done, needs with results and whether they held)
    let stories: [Story; 2] = [
        (
            420,
            230,
            false,
            &[
                ("school_attendance", NeedResult::Achieved, None),
                ("parent_mental_health", NeedResult::Achieved, None),
                ("housing", NeedResult::Progress, None),
            ],
        ),
        (
            640,
            400,
            true,
            &[
                ("parental_conflict", NeedResult::Achieved, Some(true)),
                ("debt", NeedResult::Achieved, Some(false)),
                ("behaviour", NeedResult::NotAchieved, None),
            ],
        ),
    ];
    let mut made = vec![];
    for (family, (opened, closed, done, needs)) in chosen.iter().zip(stories) {
        id += 1;
        let reason = "Goals in the family plan met; the family and partners agreed to close at the review";
        for (days, kind, from, to, detail) in [
            (opened, "opened", None, Some("3"), ""),
            (opened - 30, "stage_changed", Some("assessment"), Some("plan"), ""),
            (opened - 120, "stage_changed", Some("plan"), Some("review"), ""),
            (closed, "closed", Some("review"), Some("closure"), reason),
        ] {
            batch.episode_events.push(EpisodeEventRow {
                episode_id: id,
                at_ms: at(days),
                by_user_id: Some(eh),
                kind,
                from_value: from,
                to_value: to,
                detail: detail.to_string(),
            });
        }
        batch.episodes.push(EpisodeRow {
            id,
            tenant_id: p.tenant_id,
            family_id: *family,
            referral_id: None,
            lead_user_id: Some(eh),
            level: "3",
            opened_on: today - Duration::days(opened),
            closed_on: Some(today - Duration::days(closed)),
            close_reason: Some(reason),
            stage: "closure",
            outcome: Some("needs_met"),
        });
        made.push((
            id,
            *family,
            today - Duration::days(opened),
            today - Duration::days(closed),
            done,
            needs,
        ));
    }
    db.bulk_insert(&batch).await?;
    db.reset_id_sequences().await?;
    let members_of = |f: i64| async move {
        db.members(f).await.map(|ms| {
            ms.into_iter()
                .filter(|m| m.left_on.is_none())
                .map(|m| (m.person.id, m.role))
                .collect::<Vec<_>>()
        })
    };
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for (eid, family, opened_on, closed_on, done, needs) in made {
        let members = members_of(family).await?;
        let due = sustainment_due(closed_on);
        let records: Vec<NeedRecord> = needs
            .iter()
            .filter_map(|(code, result, held)| {
                let need = kindred_domain::referral::need(code)?;
                Some(NeedRecord {
                    need: NewNeed {
                        tenant_id: p.tenant_id,
                        family_id: family,
                        episode_id: Some(eid),
                        person_id: about(need, &members, &mut rng),
                        outcome_code: need.outcome.code().into(),
                        need_code: Some(need.code.into()),
                        referral_id: None,
                        description: need.label.into(),
                        identified_on: opened_on,
                        identified_by_user_id: Some(eh),
                    },
                    result: Some((result.code(), evidence(need.outcome.code(), *result).into(), closed_on, Some(eh))),
                    sustained: held.map(|h| {
                        let words = if h {
                            "Checked at a visit with the family: no arguments in front of the children since the programme."
                        } else {
                            "New arrears since the summer; referred to debt advice again."
                        };
                        (h, words.to_string(), due + Duration::days(5), Some(eh))
                    }),
                })
            })
            .collect();
        out.needs += db.load_family_needs(&records).await?;
        let task = db
            .add_task(&NewTask {
                tenant_id: p.tenant_id,
                kind: Kind::SustainmentCheck.code(),
                family_id: Some(family),
                episode_id: Some(eid),
                assigned_user_id: Some(eh),
                assigned_team_id: None,
                title: "Check whether the outcomes were sustained".into(),
                due_on: due,
                created_by_user_id: Some(eh),
            })
            .await?;
        if done {
            db.complete_task(task, eh).await?;
            out.checks_done += 1;
        } else {
            out.checks_due += 1;
        }
    }
    Ok(())
}
