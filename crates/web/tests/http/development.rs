//! Child development and the common early help assessment over real HTTP:
//! ASQ scores checked and classified against each tenant's own cut-offs, the
//! integrated review at two, and an early help assessment that is read-only
//! once completed.

use kindred_domain::model::{MemberRole, Sex};
use kindred_store::families::Creator;
use kindred_store::persons::PersonDetails;
use kindred_store::testing;

use crate::{TestApp, spawn_with};

async fn read(app: &TestApp, c: &reqwest::Client, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn post(c: &reqwest::Client, app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    c.post(app.url(path)).form(form).send().await.unwrap()
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// An ASQ-3 form for `child` at 24 months, completed today, with these scores.
fn asq3<'a>(csrf: &'a str, child: &'a str, day: &'a [String; 3], scores: [&'a str; 5]) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("child", child),
        ("interval", "24"),
        ("completed_day", &day[0]),
        ("completed_month", &day[1]),
        ("completed_year", &day[2]),
        ("communication", scores[0]),
        ("gross_motor", scores[1]),
        ("fine_motor", scores[2]),
        ("problem_solving", scores[3]),
        ("personal_social", scores[4]),
        ("notes", "Completed with mum at home"),
    ]
}

/// A family in the other tenant, led by its early help worker, with a child of two.
async fn east_family(app: &TestApp) -> (i64, i64) {
    let stranger = app.db.user_by_email("stranger@east.test").await.unwrap().unwrap();
    let today = kindred_store::today();
    let fam = app
        .db
        .create_family(
            stranger.tenant_id,
            "Nowak household",
            &Creator {
                user_id: stranger.id,
                organisation_id: stranger.organisation_id,
                service: "Family support".into(),
            },
            today,
        )
        .await
        .unwrap();
    let child = app
        .db
        .create_person(
            stranger.tenant_id,
            &PersonDetails {
                given_name: "Ola".into(),
                family_name: "Nowak".into(),
                preferred_name: None,
                date_of_birth: Some(today - time::Duration::days(740)),
                expected_delivery: None,
                sex: Sex::Unknown,
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
        .add_member(fam.id, child.id, MemberRole::Child, today)
        .await
        .unwrap();
    (fam.id, child.id)
}

#[tokio::test]
async fn asq_scores_are_checked_and_classified_against_each_councils_own_cutoffs() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let khan = app.world.khan_family;
        let child = app.world.khan_child.to_string();
        let today = kindred_store::today();
        let day = [
            today.day().to_string(),
            (today.month() as u8).to_string(),
            today.year().to_string(),
        ];

        // West's administrator sets cut-offs at 24 months; a monitoring zone
        // below the cut-off is refused, naming the field, and nothing is lost.
        let (admin, at) = app.sign_in("admin@west.test").await;
        let bad = post(
            &admin,
            &app,
            "/admin/asq-cutoffs",
            &[
                ("csrf", &at),
                ("instrument", "asq3"),
                ("interval", "24"),
                ("cutoff-communication", "30"),
                ("monitoring-communication", "20"),
                ("cutoff-gross_motor", "22.5"),
            ],
        )
        .await;
        assert_eq!(bad.status(), 422);
        let page = bad.text().await.unwrap();
        assert!(page.contains("href=\"#monitoring-communication\""));
        assert!(page.contains("value=\"22.5\""));
        for (instrument, form) in [
            (
                "asq3",
                vec![
                    ("cutoff-communication", "30"),
                    ("monitoring-communication", "40"),
                    ("cutoff-gross_motor", "22.5"),
                    ("monitoring-gross_motor", "30"),
                ],
            ),
            ("asqse", vec![("cutoff-total", "60"), ("monitoring-total", "45")]),
        ] {
            let mut f = vec![("csrf", at.as_str()), ("instrument", instrument), ("interval", "24")];
            f.extend(form);
            let res = post(&admin, &app, "/admin/asq-cutoffs", &f).await;
            assert_eq!(res.status(), 303, "{instrument} cut-offs saved");
        }
        // An interval the questionnaire does not have is not saved anywhere.
        let res = post(
            &admin,
            &app,
            "/admin/asq-cutoffs",
            &[
                ("csrf", &at),
                ("instrument", "asq3"),
                ("interval", "25"),
                ("cutoff-communication", "10"),
            ],
        )
        .await;
        assert_eq!(res.status(), 400);
        let (_, page) = read(&app, &admin, "/admin/asq-cutoffs?instrument=asq3&interval=24").await;
        assert!(page.contains("22.5 / 30"));
        // Only administrators set them.
        let (lead, lt) = app.sign_in("lead@west.test").await;
        assert_eq!(read(&app, &lead, "/admin/asq-cutoffs").await.0, 404);

        // The other council's own, different cut-offs.
        let (east_fam, east_child) = east_family(&app).await;
        let east_tenant = app.db.tenant_by_code("east").await.unwrap().id;
        app.db
            .set_asq_cutoff(east_tenant, None, "asq3", 24, "communication", Some((2000, 2500)))
            .await
            .unwrap();

        // Scores out of range or off the five-point steps are refused, naming the area.
        let path = format!("/families/{khan}/development/asq3");
        for (bad, message) in [
            ("65", "Communication score must be between 0 and 60"),
            ("7", "Communication score must be a multiple of 5"),
        ] {
            let res = post(
                &lead,
                &app,
                &path,
                &asq3(&lt, &child, &day, [bad, "50", "40", "45", "35"]),
            )
            .await;
            assert_eq!(res.status(), 422, "score {bad}");
            let page = res.text().await.unwrap();
            assert!(page.contains(message), "{message}");
            assert!(page.contains("href=\"#communication\""));
            assert!(page.contains("Completed with mum at home"));
            assert!(page.contains(&format!("value=\"{bad}\"")));
        }
        // A child of another family is not this family's.
        let other_child = app.db.members(app.world.other_family).await.unwrap()[0]
            .person
            .id
            .to_string();
        let res = post(
            &lead,
            &app,
            &path,
            &asq3(&lt, &other_child, &day, ["25", "50", "40", "45", "35"]),
        )
        .await;
        assert_eq!(res.status(), 422);
        assert!(res.text().await.unwrap().contains("Select a child in this family"));
        // Recorded: communication 25 is below West's cut-off of 30.
        let res = post(
            &lead,
            &app,
            &path,
            &asq3(&lt, &child, &day, ["25", "50", "40", "45", "35"]),
        )
        .await;
        assert_eq!(res.status(), 303);
        let res = post(
            &lead,
            &app,
            &format!("/families/{khan}/development/asqse"),
            &[
                ("csrf", lt.as_str()),
                ("child", child.as_str()),
                ("interval", "24"),
                ("completed_day", &day[0]),
                ("completed_month", &day[1]),
                ("completed_year", &day[2]),
                ("total", "70"),
            ],
        )
        .await;
        assert_eq!(res.status(), 303);
        let (status, page) = read(&app, &lead, &format!("/families/{khan}/development")).await;
        assert_eq!(status, 200);
        assert!(page.contains("Below cut-off"), "communication below West's cut-off");
        assert!(page.contains("Above cut-off"), "gross motor above, ASQ:SE total above");
        assert!(page.contains("No cut-off configured"), "fine motor has none");

        // The same scores in the other council: communication 25 is above its cut-off of 20.
        let (stranger, st) = app.sign_in("stranger@east.test").await;
        let east_child = east_child.to_string();
        // A questionnaire for an older child than this two-year-old is refused.
        let mut older = asq3(&st, &east_child, &day, ["25", "50", "40", "45", "35"]);
        older[2] = ("interval", "36");
        let res = post(
            &stranger,
            &app,
            &format!("/families/{east_fam}/development/asq3"),
            &older,
        )
        .await;
        assert_eq!(res.status(), 422);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("choose a questionnaire for their age, not 36 months")
        );
        let res = post(
            &stranger,
            &app,
            &format!("/families/{east_fam}/development/asq3"),
            &asq3(&st, &east_child, &day, ["25", "50", "40", "45", "35"]),
        )
        .await;
        assert_eq!(res.status(), 303);
        let (_, page) = read(&app, &stranger, &format!("/families/{east_fam}/development")).await;
        assert!(page.contains("Above cut-off"));
        assert!(!page.contains("Below cut-off"));
        assert_eq!(page.matches("No cut-off configured").count(), 4);

        // The integrated review at two takes in the ASQ-3; the parent's views are required.
        let asq_id = app
            .db
            .questionnaires_of_family(khan)
            .await
            .unwrap()
            .iter()
            .find(|q| q.instrument == "asq3")
            .unwrap()
            .id
            .to_string();
        let review = format!("/families/{khan}/development/two-year-review");
        let mut form = vec![
            ("csrf", lt.as_str()),
            ("child", child.as_str()),
            ("reviewed_day", &day[0]),
            ("reviewed_month", &day[1]),
            ("reviewed_year", &day[2]),
            ("questionnaire", &asq_id),
            ("weight", "12.4"),
            ("height", "86.5"),
            ("setting_name", "Little Acorns Nursery"),
            ("eyfs_communication", "some_concerns"),
            ("eyfs_physical", "on_track"),
            ("eyfs_psed", "on_track"),
            ("next_steps", "Talking group at the hub"),
        ];
        let res = post(&lead, &app, &review, &form).await;
        assert_eq!(res.status(), 422);
        let page = res.text().await.unwrap();
        assert!(page.contains("href=\"#parent_views\""));
        assert!(page.contains("Talking group at the hub"));
        form.push(("parent_views", "Worried she has few words"));
        assert_eq!(post(&lead, &app, &review, &form).await.status(), 303);
        let (_, page) = read(&app, &lead, &format!("/families/{khan}/development")).await;
        assert!(page.contains("Some concerns"));
        assert!(page.contains("12.4 kg, 86.5 cm"));
        assert!(page.contains("Worried she has few words"));
        assert!(page.contains("At 24 months"));

        // Without a working relationship, nothing: not the page, not the forms.
        let (sw, swt) = app.sign_in("sw@west.test").await;
        assert_eq!(read(&app, &sw, &format!("/families/{khan}/development")).await.0, 404);
        assert_eq!(read(&app, &sw, &path).await.0, 404);
        let res = post(
            &sw,
            &app,
            &path,
            &asq3(&swt, &child, &day, ["25", "50", "40", "45", "35"]),
        )
        .await;
        assert_eq!(res.status(), 404);
        assert_eq!(
            read(&app, &stranger, &format!("/families/{khan}/development")).await.0,
            404
        );
    }
}

#[tokio::test]
async fn a_completed_early_help_assessment_is_read_only_and_the_next_starts_from_it() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let khan = app.world.khan_family;
        let teacher = app.db.user_by_email("teacher@west.test").await.unwrap().unwrap();
        app.db
            .add_involvement(khan, teacher.organisation_id, "Education", kindred_store::today())
            .await
            .unwrap();
        let (lead, lt) = app.sign_in("lead@west.test").await;
        let base = format!("/families/{khan}/early-help-assessments");
        let (status, page) = read(&app, &lead, &base).await;
        assert_eq!(status, 200);
        assert!(page.contains("Start an early help assessment"));
        // Completing with sections missing: each named, and what was typed kept.
        let res = post(
            &lead,
            &app,
            &format!("{base}/new"),
            &[
                ("csrf", &lt),
                ("reason", "Nursery noticed few words"),
                ("action", "complete"),
            ],
        )
        .await;
        assert_eq!(res.status(), 422);
        let page = res.text().await.unwrap();
        assert!(page.contains("href=\"#analysis\""));
        assert!(page.contains("href=\"#outcome\""));
        assert!(page.contains("Nursery noticed few words"));
        // Saved as a draft, then continued and completed.
        let res = post(
            &lead,
            &app,
            &format!("{base}/new"),
            &[
                ("csrf", &lt),
                ("reason", "Nursery noticed few words"),
                ("action", "draft"),
            ],
        )
        .await;
        assert_eq!(res.status(), 303);
        let shown = location(&res);
        let aid: i64 = shown.rsplit('/').next().unwrap().parse().unwrap();
        let again = lead.get(app.url(&format!("{base}/new"))).send().await.unwrap();
        assert_eq!(location(&again), format!("{base}/{aid}/edit"), "one draft at a time");
        let sections = [
            "reason",
            "child_development",
            "parenting_capacity",
            "family_environment",
            "child_views",
            "family_views",
            "strengths",
            "needs",
            "analysis",
        ];
        let texts: Vec<String> = sections.iter().map(|s| format!("Written for {s}")).collect();
        let mut form: Vec<(&str, &str)> =
            vec![("csrf", &lt), ("outcome", "team_around_family"), ("action", "complete")];
        form.extend(sections.iter().zip(&texts).map(|(s, t)| (*s, t.as_str())));
        let res = post(&lead, &app, &format!("{base}/{aid}/edit"), &form).await;
        assert_eq!(res.status(), 303);
        // Every partner with access reads the same one.
        let (school, _) = app.sign_in("teacher@west.test").await;
        let (status, page) = read(&app, &school, &format!("{base}/{aid}")).await;
        assert_eq!(status, 200);
        assert!(page.contains("Written for parenting_capacity"));
        assert!(page.contains("Team around the family and an early help plan"));
        assert!(page.contains("Completed"));
        // Completed: it cannot be edited.
        let mut change = form.clone();
        change[0] = ("csrf", &lt);
        change.push(("analysis", "Changed afterwards"));
        change.retain(|(k, v)| *k != "analysis" || *v == "Changed afterwards");
        let res = post(&lead, &app, &format!("{base}/{aid}/edit"), &change).await;
        assert_eq!(res.status(), 409);
        let (_, page) = read(&app, &lead, &format!("{base}/{aid}")).await;
        assert!(page.contains("Written for analysis"));
        assert!(!page.contains("Changed afterwards"));
        let edit = lead.get(app.url(&format!("{base}/{aid}/edit"))).send().await.unwrap();
        assert_eq!(location(&edit), format!("{base}/{aid}"));
        // The next one starts from the last: nothing typed twice.
        let (status, page) = read(&app, &lead, &format!("{base}/new")).await;
        assert_eq!(status, 200);
        assert!(page.contains("Written for family_views"));
        // Without a working relationship, nothing.
        let (sw, _) = app.sign_in("sw@west.test").await;
        assert_eq!(read(&app, &sw, &base).await.0, 404);
        assert_eq!(read(&app, &sw, &format!("{base}/{aid}")).await.0, 404);
    }
}
