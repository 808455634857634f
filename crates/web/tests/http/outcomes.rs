//! The outcomes framework (issue 7, F15) over real HTTP: a worker records a
//! family's needs; an episode will not close while a need has no result and
//! evidence, and names the need; closing creates the six-month sustainment
//! check, which records whether each achieved outcome held; the referral's
//! needs start the register when triage opens an episode; a tenant edits its
//! framework, and a retired outcome is no longer offered while a need keeps
//! it; nobody without access to the family finds any of it.

use kindred_domain::dates;
use kindred_domain::outcomes::sustainment_due;
use kindred_domain::pathway::add_months;
use kindred_store::episodes::{EpisodeUpdate, NewEpisodeEvent};
use kindred_store::testing;

use crate::{TestApp, spawn_with};

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default()
}

async fn read(app: &TestApp, c: &reqwest::Client, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// Posts a form: (status, the redirect's location or the page).
async fn post(c: &reqwest::Client, app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let res = c.post(app.url(path)).form(form).send().await.unwrap();
    let status = res.status().as_u16();
    let to = location(&res);
    let body = res.text().await.unwrap();
    (status, if status == 303 { to } else { body })
}

/// The ids of a family's needs, oldest first.
async fn need_ids(app: &TestApp, family: i64) -> Vec<i64> {
    app.db
        .family_needs(family)
        .await
        .unwrap()
        .iter()
        .map(|n| n.id)
        .collect()
}

#[tokio::test]
async fn needs_are_recorded_closure_waits_for_every_result_and_the_sustainment_check_follows() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let khan = app.world.khan_family;
        let zara = app.world.khan_child;
        let outcomes = format!("/families/{khan}/outcomes");
        let (lead, lt) = app.sign_in("lead@west.test").await;
        let (status, page) = read(&app, &lead, &outcomes).await;
        assert_eq!(status, 200);
        assert!(page.contains("No needs recorded yet"), "{page}");
        assert!(page.contains("Add a need"));

        // An episode, then its needs: one about Zara, one from the needs list.
        let (status, to) = post(
            &lead,
            &app,
            &format!("/families/{khan}/episodes"),
            &[("csrf", &lt), ("level", "3")],
        )
        .await;
        assert_eq!(status, 303);
        let eid: i64 = to.rsplit('/').next().unwrap().parse().unwrap();
        let episode = format!("/families/{khan}/episodes/{eid}");
        let add = format!("{outcomes}/needs");
        // Nothing valid is lost: the outcome chosen comes back with the error.
        let (status, html) = post(
            &lead,
            &app,
            &add,
            &[("csrf", &lt), ("outcome", "education"), ("person", "")],
        )
        .await;
        assert_eq!(status, 422);
        assert!(html.contains("href=\"#description\">Describe the need"), "{html}");
        assert!(html.contains("<option value=\"education\" selected>"), "{html}");
        let zara_id = zara.to_string();
        let (status, _) = post(
            &lead,
            &app,
            &add,
            &[
                ("csrf", &lt),
                ("outcome", "education"),
                ("person", &zara_id),
                ("description", "Zara misses most Mondays"),
            ],
        )
        .await;
        assert_eq!(status, 303);
        let (status, _) = post(
            &lead,
            &app,
            &add,
            &[
                ("csrf", &lt),
                ("outcome", "housing"),
                ("need_code", "housing"),
                ("description", ""),
            ],
        )
        .await;
        assert_eq!(status, 303);
        // Someone else's person is not a member of this family.
        let other_child = app.db.members(app.world.other_family).await.unwrap()[0]
            .person
            .id
            .to_string();
        let (status, html) = post(
            &lead,
            &app,
            &add,
            &[
                ("csrf", &lt),
                ("outcome", "health"),
                ("person", &other_child),
                ("description", "x"),
            ],
        )
        .await;
        assert_eq!(status, 422);
        assert!(html.contains("Choose who the need is about"));
        let ids = need_ids(&app, khan).await;
        assert_eq!(ids.len(), 2);
        let (school, housing) = (ids[0], ids[1]);
        let needs = app.db.episode_needs(eid).await.unwrap();
        assert_eq!(needs.len(), 2, "added to the open episode");
        assert_eq!(needs[0].person_id, Some(zara));
        assert_eq!(needs[1].description, "Housing problems or risk of homelessness");
        assert_eq!(needs[1].need_code.as_deref(), Some("housing"));

        // The register, by outcome, with the framework's descriptors.
        let (_, page) = read(&app, &lead, &outcomes).await;
        for s in [
            "Getting a good education",
            "attendance is below 90%",
            "Secure housing",
            "Zara misses most Mondays",
            "Zara Khan",
            "2 open needs",
        ] {
            assert!(page.contains(s), "{s}: {page}");
        }

        // Closing asks for each open need's result and evidence, and names what is missing.
        let close = format!("{episode}/close");
        let (_, html) = read(&app, &lead, &episode).await;
        assert!(html.contains(&format!("name=\"result-{school}\"")), "{html}");
        let (status, html) = post(
            &lead,
            &app,
            &close,
            &[
                ("csrf", &lt),
                ("reason", "Work complete"),
                ("outcome", "needs_met"),
                (&format!("result-{school}"), "achieved"),
            ],
        )
        .await;
        assert_eq!(status, 422);
        assert!(html.contains("There is a problem"));
        assert!(
            html.contains(&format!(
                "href=\"#evidence-{school}\">Enter the evidence for the result of the need “Zara misses most Mondays”"
            )),
            "{html}"
        );
        assert!(
            html.contains(&format!(
                "href=\"#result-{housing}\">Choose the result for the need “Housing problems or risk of homelessness”"
            )),
            "{html}"
        );
        assert!(html.contains("Work complete"), "the reason is kept");
        assert!(
            html.contains(&format!(
                "id=\"result-{school}-achieved\" name=\"result-{school}\" type=\"radio\" value=\"achieved\" checked"
            )),
            "{html}"
        );
        assert_eq!(app.db.episode(eid).await.unwrap().unwrap().status, "open");

        // One result on the register page: evidence is required there too.
        let result = format!("{outcomes}/needs/{housing}/result");
        let rkey = format!("result-{housing}");
        let ekey = format!("evidence-{housing}");
        let (status, html) = post(&lead, &app, &result, &[("csrf", &lt), (&rkey, "progress")]).await;
        assert_eq!(status, 422);
        assert!(html.contains(&format!("href=\"#{ekey}\"")), "{html}");
        let (status, _) = post(
            &lead,
            &app,
            &result,
            &[
                ("csrf", &lt),
                (&rkey, "progress"),
                (&ekey, "On the housing register; arrears plan agreed"),
            ],
        )
        .await;
        assert_eq!(status, 303);
        // A result is evidence: it does not change, nor does its need.
        let (status, _) = post(
            &lead,
            &app,
            &result,
            &[("csrf", &lt), (&rkey, "achieved"), (&ekey, "x")],
        )
        .await;
        assert_eq!(status, 409);
        let (status, _) = post(
            &lead,
            &app,
            &format!("{outcomes}/needs/{housing}"),
            &[
                ("csrf", &lt),
                ("outcome", "housing"),
                ("person", ""),
                ("description", "Rewritten"),
            ],
        )
        .await;
        assert_eq!(status, 409);
        // An open need can still change.
        let (status, html) = read(&app, &lead, &format!("{outcomes}/needs/{school}")).await;
        assert_eq!(status, 200);
        assert!(html.contains("Zara misses most Mondays"));

        // With the remaining need answered, the episode closes, and the lead
        // gets the sustainment check, due six calendar months on.
        let (status, _) = post(
            &lead,
            &app,
            &close,
            &[
                ("csrf", &lt),
                ("reason", "Work complete"),
                ("outcome", "needs_met"),
                (&format!("result-{school}"), "achieved"),
                (
                    &format!("evidence-{school}"),
                    "Attendance 96% this term, letter from school",
                ),
            ],
        )
        .await;
        assert_eq!(status, 303);
        let e = app.db.episode(eid).await.unwrap().unwrap();
        assert_eq!(e.status, "closed");
        let today = kindred_store::today();
        let needs = app.db.episode_needs(eid).await.unwrap();
        assert_eq!(needs[0].result.as_deref(), Some("achieved"));
        assert_eq!(needs[0].result_on, Some(today));
        assert_eq!(needs[1].result.as_deref(), Some("progress"));
        let lead_id = app.db.user_by_email("lead@west.test").await.unwrap().unwrap().id;
        let check = app
            .db
            .tasks_of_user(lead_id, true, 100)
            .await
            .unwrap()
            .into_iter()
            .find(|t| t.kind == "sustainment_check")
            .expect("a sustainment check for the lead");
        assert_eq!(check.due_on, add_months(today, 6));
        assert_eq!(check.episode_id, Some(eid));
        assert_eq!(check.title, "Check whether the outcomes were sustained");
        let (_, tasks) = read(&app, &lead, "/tasks").await;
        let sustained = format!("{episode}/sustained");
        assert!(tasks.contains(&format!("href=\"{sustained}\"")), "{tasks}");
        assert!(tasks.contains(&dates::long(add_months(today, 6))), "{tasks}");
        let (_, page) = read(&app, &lead, &outcomes).await;
        assert!(page.contains("Were the outcomes sustained?"), "{page}");
        assert!(
            page.contains("1 outcome achieved, 1 with progress made, 0 not achieved"),
            "{page}"
        );

        // Not before it is due.
        let skey = format!("sustained-{school}");
        let sekey = format!("sustained-evidence-{school}");
        let (status, html) = read(&app, &lead, &sustained).await;
        assert_eq!(status, 200);
        assert!(html.contains("The check is not due until"), "{html}");
        let (status, html) = post(
            &lead,
            &app,
            &sustained,
            &[("csrf", &lt), (&skey, "sustained"), (&sekey, "Still 95%")],
        )
        .await;
        assert_eq!(status, 422);
        assert!(html.contains("The check is due on"), "{html}");
        // Seven months later (the closure moved back), it is due: answered in full.
        let closed = add_months(today, -7);
        app.db
            .update_episode(
                eid,
                &EpisodeUpdate {
                    status: "closed",
                    stage: "closure",
                    level: "3",
                    lead_user_id: e.lead_user_id,
                    closed_on: Some(closed),
                    close_reason: e.close_reason.clone(),
                    outcome: Some("needs_met"),
                },
                &NewEpisodeEvent {
                    by_user_id: None,
                    kind: "closed",
                    from_value: None,
                    to_value: None,
                    detail: String::new(),
                },
            )
            .await
            .unwrap();
        assert!(sustainment_due(closed) <= today);
        let (status, html) = post(&lead, &app, &sustained, &[("csrf", &lt), (&skey, "sustained")]).await;
        assert_eq!(status, 422);
        assert!(html.contains(&format!("href=\"#{sekey}\"")), "{html}");
        let (status, _) = post(
            &lead,
            &app,
            &sustained,
            &[
                ("csrf", &lt),
                (&skey, "sustained"),
                (&sekey, "Attendance 95% over three terms"),
            ],
        )
        .await;
        assert_eq!(status, 303);
        let needs = app.db.episode_needs(eid).await.unwrap();
        assert_eq!(needs[0].sustained, Some(true));
        assert_eq!(needs[0].sustained_on, Some(today));
        assert_eq!(needs[1].sustained, None, "only achieved outcomes are checked");
        assert_eq!(app.db.task(check.id).await.unwrap().unwrap().status, "done");
        let (_, page) = read(&app, &lead, &outcomes).await;
        assert!(
            page.contains("Attendance 95% over three terms") && page.contains("Sustained"),
            "{page}"
        );
        // Checked once.
        let (status, _) = post(
            &lead,
            &app,
            &sustained,
            &[("csrf", &lt), (&skey, "not_sustained"), (&sekey, "x")],
        )
        .await;
        assert!(status == 303 || status == 409, "{status}");
        assert_eq!(app.db.episode_needs(eid).await.unwrap()[0].sustained, Some(true));
    }
}

#[tokio::test]
async fn triage_opening_an_episode_brings_the_referrals_needs_into_the_register() {
    use kindred_domain::referral::Route;
    use kindred_store::referrals::{NewReferral, ReferralDetails};
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let khan = app.world.khan_family;
        let lead = app.db.user_by_email("lead@west.test").await.unwrap().unwrap();
        let eh = app.db.user_by_email("eh@west.test").await.unwrap().unwrap();
        let r = app
            .db
            .create_referral(&NewReferral {
                tenant_id: lead.tenant_id,
                route: Route::Professional,
                referrer_user_id: Some(lead.id),
                referrer_organisation_id: Some(lead.organisation_id),
                referrer: Default::default(),
                family_id: Some(khan),
                reference: "KR-OUTCOMES-1".into(),
            })
            .await
            .unwrap();
        let details = ReferralDetails {
            needs: vec!["school_attendance".into(), "debt".into()],
            ..Default::default()
        };
        app.db.update_referral_details(r.id, &details).await.unwrap();
        app.db.submit_referral(r.id, Some(lead.id), None).await.unwrap();
        let (triage, tt) = app.sign_in("triage@west.test").await;
        let eh_id = eh.id.to_string();
        let (status, _) = post(
            &triage,
            &app,
            &format!("/referrals/{}/decision", r.id),
            &[
                ("csrf", &tt),
                ("level", "3"),
                ("outcome", "multi_agency"),
                ("lead_user_id", &eh_id),
                ("rationale", "Attendance and money worries together"),
            ],
        )
        .await;
        assert_eq!(status, 303);
        let needs = app.db.family_needs(khan).await.unwrap();
        let got: Vec<(&str, Option<&str>)> = needs
            .iter()
            .map(|n| (n.outcome_code.as_str(), n.need_code.as_deref()))
            .collect();
        assert_eq!(
            got,
            [("finance", Some("debt")), ("education", Some("school_attendance"))]
        );
        let eid = needs[0].episode_id.expect("in the new episode");
        assert!(
            needs
                .iter()
                .all(|n| n.episode_id == Some(eid) && n.referral_id == Some(r.id))
        );
        assert_eq!(app.db.episode(eid).await.unwrap().unwrap().lead_user_id, Some(eh.id));
        // The new lead sees them, and cannot close the episode without their results.
        let (ehc, et) = app.sign_in("eh@west.test").await;
        let (_, page) = read(&app, &ehc, &format!("/families/{khan}/outcomes")).await;
        assert!(
            page.contains("Debt or money worries") && page.contains("Financial stability"),
            "{page}"
        );
        let (status, html) = post(
            &ehc,
            &app,
            &format!("/families/{khan}/episodes/{eid}/close"),
            &[("csrf", &et), ("reason", "Done"), ("outcome", "needs_met")],
        )
        .await;
        assert_eq!(status, 422);
        assert!(
            html.contains("Choose the result for the need “Debt or money worries”"),
            "{html}"
        );
        // Closing with every need short of achieved makes no sustainment check.
        let mut form: Vec<(String, String)> = vec![
            ("csrf".into(), et.clone()),
            ("reason".into(), "Family moved".into()),
            ("outcome".into(), "moved_away".into()),
        ];
        for n in &needs {
            form.push((format!("result-{}", n.id), "not_achieved".into()));
            form.push((format!("evidence-{}", n.id), "Moved before the work finished".into()));
        }
        let res = ehc
            .post(app.url(&format!("/families/{khan}/episodes/{eid}/close")))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        assert!(
            !app.db
                .tasks_of_user(eh.id, false, 100)
                .await
                .unwrap()
                .iter()
                .any(|t| t.kind == "sustainment_check")
        );
    }
}

#[tokio::test]
async fn a_tenant_edits_its_framework_and_a_retired_outcome_stays_with_its_needs() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let khan = app.world.khan_family;
        let outcomes = format!("/families/{khan}/outcomes");
        let (lead, lt) = app.sign_in("lead@west.test").await;
        let add = format!("{outcomes}/needs");
        let (status, _) = post(
            &lead,
            &app,
            &add,
            &[
                ("csrf", &lt),
                ("outcome", "finance"),
                ("description", "Rent arrears of £900"),
            ],
        )
        .await;
        assert_eq!(status, 303);

        // Only administrators edit the framework.
        let (status, _) = read(&app, &lead, "/admin/outcomes").await;
        assert_eq!(status, 404);
        let (admin, at) = app.sign_in("admin@west.test").await;
        let (status, page) = read(&app, &admin, "/admin/outcomes").await;
        assert_eq!(status, 200);
        assert!(page.contains("Getting a good education") && page.contains("Financial stability"));
        // Every fault named where it is; nothing saved.
        let (status, html) = post(
            &admin,
            &app,
            "/admin/outcomes",
            &[
                ("csrf", &at),
                ("need-housing", " "),
                ("achieved-housing", "Settled"),
                ("offered-housing", "yes"),
                ("title-new", "Connected to the community"),
            ],
        )
        .await;
        assert_eq!(status, 422);
        assert!(
            html.contains("href=\"#need-housing\">Enter what need looks like for “Secure housing”"),
            "{html}"
        );
        assert!(html.contains("href=\"#need-new\""), "{html}");
        assert!(
            html.contains("value=\"Connected to the community\""),
            "the new title is kept"
        );
        let west = app
            .db
            .user_by_email("admin@west.test")
            .await
            .unwrap()
            .unwrap()
            .tenant_id;
        assert!(app.db.outcome_framework(west).await.unwrap().is_empty());
        // Reword housing, retire finance, add an outcome of our own.
        let (status, to) = post(
            &admin,
            &app,
            "/admin/outcomes",
            &[
                ("csrf", &at),
                ("need-housing", "No settled home, or about to lose it."),
                ("achieved-housing", "A settled home kept for six months."),
                ("offered-housing", "yes"),
                ("need-finance", "Money worries"),
                ("achieved-finance", "Money under control"),
                ("title-new", "Connected to the community"),
                ("need-new", "Isolated, with nobody to turn to."),
                ("achieved-new", "Part of a group or activity they value."),
            ],
        )
        .await;
        assert_eq!(status, 303, "{to}");
        assert_eq!(to, "/admin/outcomes?saved=1");
        // A second outcome with the same title is refused.
        let (status, html) = post(
            &admin,
            &app,
            "/admin/outcomes",
            &[
                ("csrf", &at),
                ("title-new", "connected to the community"),
                ("need-new", "n"),
                ("achieved-new", "a"),
            ],
        )
        .await;
        assert_eq!(status, 422);
        assert!(
            html.contains("href=\"#title-new\">There is already an outcome called"),
            "{html}"
        );
        // Retiring every outcome is refused.
        let mut all: Vec<(String, String)> = vec![("csrf".into(), at.clone())];
        for code in [
            "education",
            "early_years",
            "health",
            "substances",
            "relationships",
            "safeguarding",
            "crime",
            "domestic_abuse",
            "housing",
            "finance",
            "own_1",
        ] {
            all.push((format!("need-{code}"), "n".into()));
            all.push((format!("achieved-{code}"), "a".into()));
            all.push((format!("title-{code}"), "Connected to the community".into()));
        }
        let res = admin.post(app.url("/admin/outcomes")).form(&all).send().await.unwrap();
        assert_eq!(res.status(), 422);
        assert!(res.text().await.unwrap().contains("Offer at least one outcome"));
        // Administrators see no case content.
        assert_eq!(read(&app, &admin, &outcomes).await.0, 404);

        // The family's page: finance is no longer offered, but the need keeps it.
        let (_, page) = read(&app, &lead, &outcomes).await;
        assert!(page.contains("Rent arrears of £900"));
        assert!(
            page.contains("Financial stability <strong class=\"govuk-tag govuk-tag--grey\">No longer offered"),
            "{page}"
        );
        assert!(!page.contains("<option value=\"finance\""), "{page}");
        assert!(
            page.contains("<option value=\"own_1\">Connected to the community</option>"),
            "{page}"
        );
        let (status, html) = post(
            &lead,
            &app,
            &add,
            &[("csrf", &lt), ("outcome", "finance"), ("description", "Debt")],
        )
        .await;
        assert_eq!(status, 422);
        assert!(html.contains("Choose the outcome the need is under"));
        let (status, _) = post(
            &lead,
            &app,
            &add,
            &[
                ("csrf", &lt),
                ("outcome", "housing"),
                ("description", "Sofa-surfing since March"),
            ],
        )
        .await;
        assert_eq!(status, 303);
        let (_, page) = read(&app, &lead, &outcomes).await;
        assert!(
            page.contains("No settled home, or about to lose it."),
            "the reworded descriptor: {page}"
        );
        // The retired outcome's need can still be changed and keep it; another need cannot take it.
        let ids = need_ids(&app, khan).await;
        let (_, form) = read(&app, &lead, &format!("{outcomes}/needs/{}", ids[0])).await;
        assert!(form.contains("Financial stability (retired)"), "{form}");
        let (status, _) = post(
            &lead,
            &app,
            &format!("{outcomes}/needs/{}", ids[0]),
            &[
                ("csrf", &lt),
                ("outcome", "finance"),
                ("person", ""),
                ("description", "Rent arrears of £1,200"),
            ],
        )
        .await;
        assert_eq!(status, 303);
        let (status, _) = post(
            &lead,
            &app,
            &format!("{outcomes}/needs/{}", ids[1]),
            &[
                ("csrf", &lt),
                ("outcome", "finance"),
                ("person", ""),
                ("description", "x"),
            ],
        )
        .await;
        assert_eq!(status, 422);
        let needs = app.db.family_needs(khan).await.unwrap();
        assert_eq!(
            (needs[0].outcome_code.as_str(), needs[0].description.as_str()),
            ("finance", "Rent arrears of £1,200")
        );
        // The other borough's framework is its own.
        let east = app
            .db
            .user_by_email("stranger@east.test")
            .await
            .unwrap()
            .unwrap()
            .tenant_id;
        assert!(app.db.outcome_framework(east).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn nobody_without_access_to_the_family_finds_its_needs() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let khan = app.world.khan_family;
        let other = app.world.other_family;
        let (lead, lt) = app.sign_in("lead@west.test").await;
        let (status, _) = post(
            &lead,
            &app,
            &format!("/families/{khan}/outcomes/needs"),
            &[
                ("csrf", &lt),
                ("outcome", "health"),
                ("description", "Mum's low mood since the move"),
            ],
        )
        .await;
        assert_eq!(status, 303);
        let need = need_ids(&app, khan).await[0];
        let eid = app
            .db
            .open_episode(
                app.db.family(khan).await.unwrap().tenant_id,
                khan,
                None,
                None,
                "3",
                None,
                kindred_store::today(),
            )
            .await
            .unwrap();
        for outsider in ["teacher@west.test", "stranger@east.test", "admin@west.test"] {
            let (c, t) = app.sign_in(outsider).await;
            for path in [
                format!("/families/{khan}/outcomes"),
                format!("/families/{khan}/outcomes/needs/{need}"),
                format!("/families/{khan}/episodes/{eid}/sustained"),
            ] {
                let (status, body) = read(&app, &c, &path).await;
                assert_eq!(status, 404, "{outsider} {path}");
                assert!(!body.contains("low mood"));
            }
            for path in [
                format!("/families/{khan}/outcomes/needs"),
                format!("/families/{khan}/outcomes/needs/{need}"),
                format!("/families/{khan}/outcomes/needs/{need}/result"),
            ] {
                let (status, _) = post(
                    &c,
                    &app,
                    &path,
                    &[
                        ("csrf", &t),
                        ("outcome", "health"),
                        ("description", "x"),
                        (&format!("result-{need}"), "achieved"),
                        (&format!("evidence-{need}"), "x"),
                    ],
                )
                .await;
                assert_eq!(status, 404, "{outsider} POST {path}");
            }
        }
        assert!(app.db.family_need(need).await.unwrap().unwrap().result.is_none());
        assert_eq!(need_ids(&app, khan).await.len(), 1);
        // A need is only found under its own family, even by someone who sees both.
        let (eh, et) = app.sign_in("eh@west.test").await;
        assert_eq!(
            read(&app, &eh, &format!("/families/{other}/outcomes/needs/{need}"))
                .await
                .0,
            404
        );
        let (status, _) = post(
            &eh,
            &app,
            &format!("/families/{other}/outcomes/needs/{need}/result"),
            &[
                ("csrf", &et),
                (&format!("result-{need}"), "achieved"),
                (&format!("evidence-{need}"), "x"),
            ],
        )
        .await;
        assert_eq!(status, 404);
        // Reading the register is audited as a read of the family.
        assert_eq!(read(&app, &lead, &format!("/families/{khan}/outcomes")).await.0, 200);
        let events = app.db.family_audit_rows(khan, 100).await.unwrap();
        assert!(
            events
                .iter()
                .any(|e| e.event.route == "web GET /families/{id}/outcomes" && e.event.record_kind == "family"),
            "the register's read is audited"
        );
    }
}
