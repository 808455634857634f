//! The family plan and the family portal over real HTTP: goals and actions
//! with owners and due dates, overdue lists, reviews and versions; a family
//! member invited to the portal sees only their family's shared plan,
//! comments and records progress, and sees who looked at their record.

use kindred_domain::model::{MemberRole, Sex};
use kindred_store::persons::PersonDetails;
use kindred_store::testing;

use crate::{TestApp, client, csrf, spawn_with};

async fn read(app: &TestApp, c: &reqwest::Client, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn post(c: &reqwest::Client, app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    c.post(app.url(path)).form(form).send().await.unwrap()
}

/// The id after `#{anchor}-` in a redirect's location.
fn anchored_id(res: &reqwest::Response, anchor: &str) -> i64 {
    let loc = res.headers()["location"].to_str().unwrap();
    loc.split(&format!("#{anchor}-")).nth(1).unwrap().parse().unwrap()
}

/// The one-time code shown to the worker after an invitation.
pub fn shown_code(html: &str) -> String {
    let at = html.find("class=\"app-code\">").expect("a code on the page") + "class=\"app-code\">".len();
    html[at..].split('<').next().unwrap().to_string()
}

/// A family member signs in to the portal with a code; returns their client and its CSRF token.
pub async fn portal_sign_in(app: &TestApp, code: &str) -> (reqwest::Client, String) {
    let c = client();
    let page = c
        .get(app.url("/portal/sign-in"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let res = post(&c, app, "/portal/sign-in", &[("csrf", &csrf(&page)), ("code", code)]).await;
    assert_eq!(res.status(), 303, "portal sign-in with {code}");
    let home = c.get(app.url("/portal")).send().await.unwrap().text().await.unwrap();
    let token = csrf(&home);
    (c, token)
}

#[tokio::test]
async fn a_lead_professional_builds_one_plan_that_partners_read_reviews_and_versions() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let khan = app.world.khan_family;
        let teacher = app.db.user_by_email("teacher@west.test").await.unwrap().unwrap();
        app.db
            .add_involvement(khan, teacher.organisation_id, "Education", kindred_store::today())
            .await
            .unwrap();
        let (lead, t) = app.sign_in("lead@west.test").await;
        let lead_user = app.db.user_by_email("lead@west.test").await.unwrap().unwrap();
        // A goal with no words and a bad score: both named, nothing lost.
        let res = post(
            &lead,
            &app,
            &format!("/families/{khan}/plan/goals/new"),
            &[("csrf", &t), ("area", "housing"), ("words", ""), ("baseline", "11")],
        )
        .await;
        assert_eq!(res.status(), 422);
        let page = res.text().await.unwrap();
        assert!(page.contains("href=\"#words\"") && page.contains("href=\"#baseline\""));
        assert!(page.contains("value=\"housing\" selected"));
        let res = post(
            &lead,
            &app,
            &format!("/families/{khan}/plan/goals/new"),
            &[
                ("csrf", &t),
                ("area", "education"),
                ("words", "Zara gets to nursery every day"),
                ("baseline", "3"),
                ("shared", "yes"),
            ],
        )
        .await;
        assert_eq!(res.status(), 303);
        let goal = anchored_id(&res, "goal");
        // An action with no owner and an impossible date.
        let path = format!("/families/{khan}/plan/actions/new");
        let g = goal.to_string();
        let res = post(
            &lead,
            &app,
            &path,
            &[
                ("csrf", &t),
                ("goal", &g),
                ("description", "Book a nursery visit"),
                ("owner", "user:999999"),
                ("due_day", "31"),
                ("due_month", "2"),
                ("due_year", "2027"),
            ],
        )
        .await;
        assert_eq!(res.status(), 422);
        let page = res.text().await.unwrap();
        assert!(page.contains("href=\"#owner\"") && page.contains("href=\"#due\""));
        assert!(page.contains("Book a nursery visit"));
        // The lead's own action, already past due: it is overdue on their list.
        let me = format!("user:{}", lead_user.id);
        let res = post(
            &lead,
            &app,
            &path,
            &[
                ("csrf", &t),
                ("goal", &g),
                ("description", "Book a nursery visit"),
                ("owner", &me),
                ("due_day", "1"),
                ("due_month", "1"),
                ("due_year", "2025"),
                ("shared", "yes"),
            ],
        )
        .await;
        assert_eq!(res.status(), 303);
        let action = anchored_id(&res, "action");
        let (_, overdue) = read(&app, &lead, "/actions/overdue").await;
        assert!(overdue.contains("Book a nursery visit"), "the lead's overdue list");
        let (_, inbox) = read(&app, &lead, "/tasks").await;
        assert!(
            inbox.contains("Book a nursery visit"),
            "the lead's task inbox shows it too"
        );
        let (_, plan) = read(&app, &lead, &format!("/families/{khan}/plan")).await;
        assert!(plan.contains("Overdue"));
        // Done, with a comment: no longer overdue.
        let res = post(
            &lead,
            &app,
            &format!("/families/{khan}/plan/actions/{action}"),
            &[("csrf", &t), ("status", "done"), ("comment", "Visit went well")],
        )
        .await;
        assert_eq!(res.status(), 303);
        let (_, overdue) = read(&app, &lead, "/actions/overdue").await;
        assert!(!overdue.contains("Book a nursery visit"));
        // A partner with access reads the same plan; one without gets nothing.
        let (school, _) = app.sign_in("teacher@west.test").await;
        let (status, page) = read(&app, &school, &format!("/families/{khan}/plan")).await;
        assert_eq!(status, 200);
        assert!(page.contains("Zara gets to nursery every day") && page.contains("Visit went well"));
        let (sw, swt) = app.sign_in("sw@west.test").await;
        assert_eq!(read(&app, &sw, &format!("/families/{khan}/plan")).await.0, 404);
        assert_eq!(
            post(
                &sw,
                &app,
                &format!("/families/{khan}/plan/goals/new"),
                &[("csrf", &swt), ("words", "x")]
            )
            .await
            .status(),
            404
        );
        // A review re-scores the goal; a missing score is refused.
        let review = format!("/families/{khan}/plan/review");
        let score_key = format!("score-{goal}");
        let res = post(&lead, &app, &review, &[("csrf", &t), ("summary", "Going well")]).await;
        assert_eq!(res.status(), 422);
        assert!(res.text().await.unwrap().contains("href=\"#scores\""));
        let res = post(
            &lead,
            &app,
            &review,
            &[("csrf", &t), ("summary", "Going well"), (&score_key, "8")],
        )
        .await;
        assert_eq!(res.status(), 303);
        let (_, page) = read(&app, &school, &format!("/families/{khan}/plan")).await;
        assert!(page.contains("3 at the start") && page.contains("8 at the last review"));
        // Every change is a version: goal, action, status, review.
        let (_, history) = read(&app, &school, &format!("/families/{khan}/plan/versions")).await;
        for v in 1..=4 {
            assert!(history.contains(&format!("Version {v}<")), "version {v}");
        }
        assert!(!history.contains("Version 5<"));
        let (status, v2) = read(&app, &school, &format!("/families/{khan}/plan/versions/2")).await;
        assert_eq!(status, 200);
        assert!(v2.contains("Book a nursery visit") && v2.contains("Not started"));
        assert_eq!(
            read(&app, &school, &format!("/families/{khan}/plan/versions/99"))
                .await
                .0,
            404
        );
    }
}

#[tokio::test]
async fn the_family_sees_only_their_shared_plan_in_the_portal_and_comments_on_it() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let khan = app.world.khan_family;
        let (lead, t) = app.sign_in("lead@west.test").await;
        let members = app.db.members(khan).await.unwrap();
        let mum = members.iter().find(|m| m.role == MemberRole::Parent).unwrap().person.id;
        let goal_res = post(
            &lead,
            &app,
            &format!("/families/{khan}/plan/goals/new"),
            &[("csrf", &t), ("words", "A calmer morning routine"), ("shared", "yes")],
        )
        .await;
        let goal = anchored_id(&goal_res, "goal").to_string();
        let path = format!("/families/{khan}/plan/actions/new");
        let mums = format!("person:{mum}");
        let res = post(
            &lead,
            &app,
            &path,
            &[
                ("csrf", &t),
                ("goal", &goal),
                ("description", "Try the bedtime chart"),
                ("owner", &mums),
                ("due_day", "1"),
                ("due_month", "6"),
                ("due_year", "2030"),
                ("shared", "yes"),
            ],
        )
        .await;
        let mine = anchored_id(&res, "action");
        let res = post(
            &lead,
            &app,
            &path,
            &[
                ("csrf", &t),
                ("goal", &goal),
                ("description", "Discuss the school's concerns at supervision"),
                ("owner", &mums),
                ("due_day", "1"),
                ("due_month", "6"),
                ("due_year", "2030"),
            ],
        )
        .await;
        let unshared = anchored_id(&res, "action");
        // Invite Aisha in person: the code is shown once.
        let res = post(
            &lead,
            &app,
            &format!("/families/{khan}/portal"),
            &[("csrf", &t), ("person", "")],
        )
        .await;
        assert_eq!(res.status(), 422);
        let m = mum.to_string();
        let res = post(
            &lead,
            &app,
            &format!("/families/{khan}/portal"),
            &[("csrf", &t), ("person", &m)],
        )
        .await;
        assert_eq!(res.status(), 200);
        let code = shown_code(&res.text().await.unwrap());
        // A wrong code is refused with a message; the right one, typed sloppily, works once.
        let anon = client();
        let page = anon
            .get(app.url("/portal/sign-in"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let res = post(
            &anon,
            &app,
            "/portal/sign-in",
            &[("csrf", &csrf(&page)), ("code", "AAAA-AAAA")],
        )
        .await;
        assert_eq!(res.status(), 422);
        assert!(res.text().await.unwrap().contains("href=\"#code\""));
        assert_eq!(read(&app, &anon, "/portal").await.0, 303);
        let sloppy = code.to_lowercase().replace('-', " ");
        let (family, ft) = portal_sign_in(&app, &sloppy).await;
        let anon2 = client();
        let page = anon2
            .get(app.url("/portal/sign-in"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let res = post(
            &anon2,
            &app,
            "/portal/sign-in",
            &[("csrf", &csrf(&page)), ("code", &code)],
        )
        .await;
        assert_eq!(res.status(), 422, "a code works once");
        // The portal shows the shared goal and action, and the team; not the unshared action.
        let (status, home) = read(&app, &family, "/portal").await;
        assert_eq!(status, 200);
        assert!(home.contains("A calmer morning routine") && home.contains("Try the bedtime chart"));
        assert!(!home.contains("supervision"));
        assert!(home.contains("Your lead professional"));
        // Aisha comments and marks her action in progress.
        let res = post(
            &family,
            &app,
            &format!("/portal/actions/{mine}"),
            &[
                ("csrf", &ft),
                ("status", "in_progress"),
                ("comment", "Two good nights so far"),
            ],
        )
        .await;
        assert_eq!(res.status(), 303);
        // The unshared action is as if it did not exist; without the token, refused.
        let res = post(
            &family,
            &app,
            &format!("/portal/actions/{unshared}"),
            &[("csrf", &ft), ("comment", "hello")],
        )
        .await;
        assert_eq!(res.status(), 404);
        let res = post(
            &family,
            &app,
            &format!("/portal/actions/{mine}"),
            &[("comment", "no token")],
        )
        .await;
        assert_eq!(res.status(), 400);
        // The lead professional sees the family's words and progress.
        let (_, plan) = read(&app, &lead, &format!("/families/{khan}/plan")).await;
        assert!(plan.contains("Two good nights so far") && plan.contains("(family)"));
        assert!(plan.contains("marked in progress"));
        // Who looked at the record, and why, in the family's words.
        let (status, log) = read(&app, &family, "/portal/access").await;
        assert_eq!(status, 200);
        assert!(log.contains("lead, West Health Visiting"));
        assert!(log.contains("They are your lead professional"));

        // Another family's member, invited by email, sees nothing of the Khans.
        let (eh, et) = app.sign_in("eh@west.test").await;
        let okafor = app.world.other_family;
        let dad = app
            .db
            .create_person(
                1,
                &PersonDetails {
                    given_name: "Emeka".into(),
                    family_name: "Okafor".into(),
                    preferred_name: None,
                    date_of_birth: Some(time::macros::date!(1985 - 03 - 03)),
                    expected_delivery: None,
                    sex: Sex::Male,
                    nhs_number: None,
                    upn: None,
                    language: None,
                    interpreter_needed: false,
                    send: false,
                },
            )
            .await
            .unwrap();
        app.db
            .add_member(okafor, dad.id, MemberRole::Parent, kindred_store::today())
            .await
            .unwrap();
        let d = dad.id.to_string();
        let res = post(
            &eh,
            &app,
            &format!("/families/{okafor}/portal"),
            &[("csrf", &et), ("person", &d), ("email", "Emeka@Example.test")],
        )
        .await;
        assert_eq!(res.status(), 200);
        let mail = app.db.pending_emails(10).await.unwrap();
        let sent = mail
            .iter()
            .find(|m| m.to_address == "emeka@example.test")
            .expect("an invitation email");
        let emailed = sent.body.split("enter this code: ").nth(1).unwrap()[..9].to_string();
        // The Khans' lead cannot invite people to a family they do not work with.
        assert_eq!(
            post(
                &lead,
                &app,
                &format!("/families/{okafor}/portal"),
                &[("csrf", &t), ("person", &d)]
            )
            .await
            .status(),
            404
        );
        let (other, ot) = portal_sign_in(&app, &emailed).await;
        let (_, home) = read(&app, &other, "/portal").await;
        assert!(!home.contains("A calmer morning routine"));
        let res = post(
            &other,
            &app,
            &format!("/portal/actions/{mine}"),
            &[("csrf", &ot), ("comment", "x")],
        )
        .await;
        assert_eq!(res.status(), 404);
        let (_, log) = read(&app, &other, "/portal/access").await;
        assert!(!log.contains("lead, West Health Visiting"));
        // Ending Aisha's access ends her session at once.
        let invites = app.db.portal_invites(khan).await.unwrap();
        let res = post(
            &lead,
            &app,
            &format!("/families/{khan}/portal/{}/revoke", invites[0].id),
            &[("csrf", &t)],
        )
        .await;
        assert_eq!(res.status(), 303);
        assert_eq!(read(&app, &family, "/portal").await.0, 303);
    }
}

#[tokio::test]
async fn the_family_page_says_when_needs_add_up_though_no_agency_alone_meets_the_threshold() {
    use kindred_domain::referral::Route;
    use kindred_store::referrals::{NewReferral, ReferralDetails};
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let khan = app.world.khan_family;
        let lead = app.db.user_by_email("lead@west.test").await.unwrap().unwrap();
        let teacher = app.db.user_by_email("teacher@west.test").await.unwrap().unwrap();
        let (c, _) = app.sign_in("lead@west.test").await;
        let refer = |org: Option<i64>, needs: &'static [&'static str], n: u32| {
            let db = app.db.clone();
            async move {
                let r = db
                    .create_referral(&NewReferral {
                        tenant_id: lead.tenant_id,
                        route: if org.is_some() {
                            Route::Professional
                        } else {
                            Route::SelfReferral
                        },
                        referrer_user_id: None,
                        referrer_organisation_id: org,
                        referrer: Default::default(),
                        family_id: Some(khan),
                        reference: format!("KR-NEEDS-{n}"),
                    })
                    .await
                    .unwrap();
                let details = ReferralDetails {
                    needs: needs.iter().map(|s| s.to_string()).collect(),
                    ..Default::default()
                };
                db.update_referral_details(r.id, &details).await.unwrap();
                db.submit_referral(r.id, None, None).await.unwrap();
            }
        };
        let shows = |html: &str| html.contains("id=\"needs-add-up\"");
        let page = || async { read(&app, &c, &format!("/families/{khan}")).await.1 };
        refer(Some(lead.organisation_id), &["school_attendance"], 1).await;
        refer(Some(teacher.organisation_id), &["housing", "exclusion"], 2).await;
        assert!(!shows(&page().await), "two outcomes do not add up");
        // The family's own request adds a third outcome: together they reach the threshold.
        refer(None, &["parent_mental_health"], 3).await;
        let html = page().await;
        assert!(shows(&html));
        assert!(html.contains("secure housing") && html.contains("getting a good education"));
        // When one agency alone has seen enough, it is that agency's referral, not a sum.
        refer(Some(teacher.organisation_id), &["debt"], 4).await;
        assert!(!shows(&page().await), "one agency alone meets the threshold");
    }
}

#[tokio::test]
async fn a_council_words_its_own_assessment_areas_and_families_are_asked_them() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let khan = app.world.khan_family;
        let (admin, at) = app.sign_in("admin@west.test").await;
        let (lead, lt) = app.sign_in("lead@west.test").await;
        assert_eq!(read(&app, &lead, "/admin/assessment-areas").await.0, 404);
        let (status, page) = read(&app, &admin, "/admin/assessment-areas").await;
        assert_eq!(status, 200);
        assert!(page.contains("Our home and somewhere settled to live"));
        let areas = kindred_domain::assessment::default_areas();
        let form = |housing: &'static str, new: &'static str| {
            let mut f: Vec<(String, String)> = vec![("csrf".into(), at.clone()), ("new_question".into(), new.into())];
            for a in &areas {
                let q = if a.code == "housing" { housing } else { a.question };
                f.push((format!("question-{}", a.code), q.into()));
                if a.code != "crime" {
                    f.push((format!("asked-{}", a.code), "yes".into()));
                }
            }
            f
        };
        // An empty question is refused, naming the area's field; nothing is saved.
        let res = admin
            .post(app.url("/admin/assessment-areas"))
            .form(&form("", ""))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        assert!(res.text().await.unwrap().contains("href=\"#question-housing\""));
        let res = admin
            .post(app.url("/admin/assessment-areas"))
            .form(&form("Our flat and the repairs", "Our faith and our community"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        // The next assessment asks the council's areas: reworded, its own, not the retired one.
        let (_, new) = read(&app, &lead, &format!("/families/{khan}/assessments/new")).await;
        assert!(new.contains("Our flat and the repairs") && new.contains("Our faith and our community"));
        assert!(!new.contains("Staying out of trouble"));
        let mut scores: Vec<(String, String)> =
            vec![("csrf".into(), lt.clone()), ("changes".into(), "A dry bedroom".into())];
        for a in areas.iter().filter(|a| a.code != "crime") {
            scores.push((format!("score-{}", a.code), "4".into()));
        }
        // The council's own area must be scored too.
        let res = lead
            .post(app.url(&format!("/families/{khan}/assessments/new")))
            .form(&scores)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        assert!(res.text().await.unwrap().contains("href=\"#own_1\""));
        scores.push(("score-own_1".into(), "8".into()));
        scores.push(("words-own_1".into(), "The mosque helps us a lot".into()));
        let res = lead
            .post(app.url(&format!("/families/{khan}/assessments/new")))
            .form(&scores)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let (_, list) = read(&app, &lead, &format!("/families/{khan}/assessments")).await;
        assert!(list.contains("Our faith and our community") && list.contains("The mosque helps us a lot"));
        // The plan offers the council's areas for goals.
        let (_, goal) = read(&app, &lead, &format!("/families/{khan}/plan/goals/new")).await;
        assert!(goal.contains("value=\"own_1\"") && !goal.contains("value=\"crime\""));
    }
}
