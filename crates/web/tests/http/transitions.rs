//! Transitions over real HTTP: who is listed as approaching 18 and who is not,
//! who sees the list, making the missing transition-plan tasks once however
//! often it is asked, and the Year 6 list.

use kindred_domain::model::{MemberRole, Sex};
use kindred_domain::transition;
use kindred_store::persons::PersonDetails;
use kindred_store::testing;

use crate::{TestApp, spawn_with};

async fn read(app: &TestApp, c: &reqwest::Client, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn post(app: &TestApp, c: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let res = c.post(app.url(path)).form(form).send().await.unwrap();
    let status = res.status().as_u16();
    let to = res
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, to)
}

async fn member(app: &TestApp, family: i64, given: &str, dob: time::Date) -> i64 {
    let t = app.db.family(family).await.unwrap().tenant_id;
    let p = app
        .db
        .create_person(
            t,
            &PersonDetails {
                given_name: given.into(),
                family_name: "Khan".into(),
                preferred_name: None,
                date_of_birth: Some(dob),
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
        .add_member(family, p.id, MemberRole::Child, kindred_store::today())
        .await
        .unwrap();
    p.id
}

#[tokio::test]
async fn young_people_approaching_18_are_listed_for_those_who_work_with_them_and_their_tasks_made_once() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let today = kindred_store::today();
        let khan = app.world.khan_family;
        // A 17½-year-old (18 in five months) and a 16-year-old in the Khan family.
        let tobias = member(&app, khan, "Tobias", transition::add_months(today, 5 - 18 * 12)).await;
        member(&app, khan, "Ulrich", transition::add_months(today, -16 * 12)).await;

        let (lead, token) = app.sign_in("lead@west.test").await;
        let (status, page) = read(&app, &lead, "/").await;
        assert_eq!(status, 200);
        assert!(
            page.contains("href=\"/transitions\""),
            "the navigation links to transitions"
        );
        let (status, page) = read(&app, &lead, "/transitions").await;
        assert_eq!(status, 200);
        assert!(page.contains("Tobias Khan"), "{page}");
        assert!(!page.contains("Ulrich"), "a 16-year-old is not approaching 18");
        assert!(page.contains(&format!("href=\"/families/{khan}\"")));
        assert!(page.contains("West Health Visiting"), "the services involved");
        assert!(page.contains("No task yet"));
        assert!(page.contains("<th scope=\"col\""));
        // Reading the list made nothing.
        assert!(app.db.transition_tasks(&[tobias]).await.unwrap().is_empty());

        // Without a working relationship, or from another borough, nobody is listed;
        // roles without casework find no page.
        for email in ["teacher@west.test", "stranger@east.test"] {
            let (c, _) = app.sign_in(email).await;
            let (status, page) = read(&app, &c, "/transitions").await;
            assert_eq!(status, 200, "{email}");
            assert!(!page.contains("Tobias"), "{email} sees nothing of the Khans");
        }
        for email in ["admin@west.test", "triage@west.test"] {
            let (c, _) = app.sign_in(email).await;
            assert_eq!(read(&app, &c, "/transitions").await.0, 404, "{email}");
        }
        let (teacher, tt) = app.sign_in("teacher@west.test").await;
        let (status, to) = post(&app, &teacher, "/transitions/tasks", &[("csrf", &tt)]).await;
        assert_eq!((status, to.as_str()), (303, "/transitions?made=0"));
        assert!(app.db.transition_tasks(&[tobias]).await.unwrap().is_empty());

        // Without the form's token nothing is made.
        let (status, _) = post(&app, &lead, "/transitions/tasks", &[("csrf", "wrong")]).await;
        assert_ne!(status, 303);
        // The lead makes the missing task: once, however often they ask.
        let (status, to) = post(&app, &lead, "/transitions/tasks", &[("csrf", &token)]).await;
        assert_eq!((status, to.as_str()), (303, "/transitions?made=1"));
        let (_, page) = read(&app, &lead, &to).await;
        assert!(page.contains("1 transition-plan task was made."), "{page}");
        assert!(!page.contains("No task yet"));
        assert!(!page.contains("Make the missing transition-plan tasks"));
        let (status, to) = post(&app, &lead, "/transitions/tasks", &[("csrf", &token)]).await;
        assert_eq!((status, to.as_str()), (303, "/transitions?made=0"));
        assert_eq!(app.db.create_all_transition_plans(today).await.unwrap(), 0);
        let tasks = app.db.transition_tasks(&[tobias]).await.unwrap();
        let task = &tasks[&tobias];
        let lead_id = app.db.user_by_email("lead@west.test").await.unwrap().unwrap().id;
        assert_eq!(task.assigned_user_id, Some(lead_id), "the lead professional's");
        assert_eq!(task.kind, "transition_plan");
        let turns_18 = transition::turns_18(transition::add_months(today, 5 - 18 * 12)).unwrap();
        assert_eq!(task.due_on, transition::plan_due(turns_18, today));
        let inbox = app.db.tasks_of_user(lead_id, false, 100).await.unwrap();
        assert_eq!(inbox.iter().filter(|t| t.kind == "transition_plan").count(), 1);
        let (_, page) = read(&app, &lead, "/tasks").await;
        assert!(page.contains("Transition plan"));
    }
}

#[tokio::test]
async fn the_year_6_list_holds_year_6_children_of_families_with_open_involvements() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let today = kindred_store::today();
        let okafor = app.world.other_family;
        let (from, to) = transition::year_6_birth_window(today);
        member(&app, okafor, "Yasmin", from + time::Duration::days(40)).await;
        member(&app, okafor, "Felix", to + time::Duration::days(40)).await;

        let (eh, _) = app.sign_in("eh@west.test").await;
        let (status, page) = read(&app, &eh, "/transitions/year-6").await;
        assert_eq!(status, 200);
        assert!(page.contains("Yasmin Khan"), "{page}");
        assert!(!page.contains("Felix"), "a Year 5 child is not in Year 6");
        assert!(page.contains("West Early Help"));
        // The health visitors have no relationship with the Okafors.
        let (lead, _) = app.sign_in("lead@west.test").await;
        let (_, page) = read(&app, &lead, "/transitions/year-6").await;
        assert!(!page.contains("Yasmin"));
    }
}
