//! Episodes, tasks and home pages over real HTTP: who may open, change and
//! close an episode; closure refused without a reason or an outcome; the
//! timeline; review tasks; inboxes that show only the reader's tasks and no
//! family they may not see; each role's home page.

use kindred_domain::model::{Profession, Role};
use kindred_store::tasks::NewTask;
use kindred_store::testing;
use kindred_store::users::NewUser;

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

async fn post(c: &reqwest::Client, app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let res = c.post(app.url(path)).form(form).send().await.unwrap();
    let status = res.status().as_u16();
    let to = location(&res);
    let body = res.text().await.unwrap();
    (status, if status == 303 { to } else { body })
}

async fn user_id(app: &TestApp, email: &str) -> i64 {
    app.db.user_by_email(email).await.unwrap().unwrap().id
}

#[tokio::test]
async fn a_lead_runs_an_episode_from_opening_to_closure_and_others_cannot() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let khan = app.world.khan_family;
        let (lead, lt) = app.sign_in("lead@west.test").await;

        // The lead professional opens an episode from the family page.
        let (_, family) = read(&app, &lead, &format!("/families/{khan}")).await;
        assert!(family.contains("No episode of work has been opened"), "{family}");
        assert!(family.contains(&format!("action=\"/families/{khan}/episodes\"")));
        let (status, to) = post(
            &lead,
            &app,
            &format!("/families/{khan}/episodes"),
            &[("csrf", &lt), ("level", "3")],
        )
        .await;
        assert_eq!(status, 303);
        let page = to.clone();
        let eid: i64 = to.rsplit('/').next().unwrap().parse().unwrap();
        let (status, html) = read(&app, &lead, &page).await;
        assert_eq!(status, 200);
        assert!(html.contains("Assessment") && html.contains("Level 3: targeted multi-agency early help"));
        assert!(html.contains("Close the episode"));
        let (_, family) = read(&app, &lead, &format!("/families/{khan}")).await;
        assert!(
            family.contains(&format!("/families/{khan}/episodes/{eid}")),
            "listed on the family page"
        );

        // A colleague of the lead's organisation sees it but may not change it;
        // a worker from an organisation without access, or another borough, finds nothing.
        let (colleague, ct) = app.sign_in("colleague@west.test").await;
        let (status, html) = read(&app, &colleague, &page).await;
        assert_eq!(status, 200);
        assert!(!html.contains("Close the episode"));
        let close = format!("{page}/close");
        let (status, _) = post(
            &colleague,
            &app,
            &close,
            &[("csrf", &ct), ("reason", "x"), ("outcome", "needs_met")],
        )
        .await;
        assert_eq!(status, 404);
        for outsider in ["teacher@west.test", "stranger@east.test"] {
            let (c, _) = app.sign_in(outsider).await;
            assert_eq!(read(&app, &c, &page).await.0, 404, "{outsider}");
        }
        // An episode is only found under its own family.
        let other = app.world.other_family;
        assert_eq!(
            read(&app, &lead, &format!("/families/{other}/episodes/{eid}")).await.0,
            404
        );
        // Managers oversee: they do not open episodes.
        let (manager, mt) = app.sign_in("manager@west.test").await;
        assert_eq!(
            post(&manager, &app, &format!("/families/{khan}/episodes"), &[("csrf", &mt)])
                .await
                .0,
            404
        );

        // Stages follow the work: a review needs a plan first.
        let stage = format!("{page}/stage");
        let (status, html) = post(&lead, &app, &stage, &[("csrf", &lt), ("stage", "review")]).await;
        assert_eq!(status, 422);
        assert!(
            html.contains("The episode cannot move from Assessment to Review"),
            "{html}"
        );
        assert_eq!(
            post(&lead, &app, &stage, &[("csrf", &lt), ("stage", "plan")]).await.0,
            303
        );
        // The plan puts a review in the lead's inbox, 12 weeks on.
        let (_, tasks) = read(&app, &lead, "/tasks").await;
        assert!(
            tasks.contains("Review due") && tasks.contains("Review the episode&#39;s plan"),
            "{tasks}"
        );

        // Closure needs a reason and an outcome, each named.
        let (status, html) = post(
            &lead,
            &app,
            &close,
            &[("csrf", &lt), ("reason", " "), ("outcome", "needs_met")],
        )
        .await;
        assert_eq!(status, 422);
        assert!(
            html.contains("href=\"#reason\">Enter the reason for closing the episode"),
            "{html}"
        );
        assert!(html.contains("checked"), "the answer is kept");
        let (status, html) = post(&lead, &app, &close, &[("csrf", &lt), ("reason", "Goals met")]).await;
        assert_eq!(status, 422);
        assert!(
            html.contains("href=\"#outcome\">Choose the outcome of the episode"),
            "{html}"
        );
        assert!(html.contains("Goals met"), "the reason is kept");
        let form = [
            ("csrf", lt.as_str()),
            ("reason", "Goals met at review"),
            ("outcome", "needs_met"),
        ];
        assert_eq!(post(&lead, &app, &close, &form).await.0, 303);
        let (_, html) = read(&app, &lead, &page).await;
        assert!(
            html.contains("Needs met") && html.contains("Goals met at review") && html.contains("Reopen the episode")
        );
        let (_, tasks) = read(&app, &lead, "/tasks").await;
        assert!(!tasks.contains("Mark done"), "closing completes the review: {tasks}");
        // A closed episode can only be reopened.
        let (status, html) = post(&lead, &app, &format!("{page}/step-up"), &[("csrf", &lt)]).await;
        assert_eq!(status, 422);
        assert!(html.contains("This episode is closed: it can only be reopened"));
        assert_eq!(
            post(&lead, &app, &format!("{page}/reopen"), &[("csrf", &lt)]).await.0,
            303
        );
        assert_eq!(
            post(&lead, &app, &format!("{page}/step-up"), &[("csrf", &lt)]).await.0,
            303
        );
        let (_, html) = read(&app, &lead, &page).await;
        assert!(html.contains("Level 4: statutory"));
        // The timeline: every change, who made it, in order.
        let timeline = html
            .split("<h2 class=\"govuk-heading-m\">Timeline</h2>")
            .nth(1)
            .unwrap();
        let order: Vec<usize> = [
            "Opened",
            "Stage changed: Plan",
            "Closed",
            "Reopened",
            "Stepped up: Level 4",
        ]
        .iter()
        .map(|w| timeline.find(w).unwrap_or_else(|| panic!("{w} in {timeline}")))
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
        assert!(timeline.contains("lead"));
        assert!(timeline.contains("Goals met at review"));
        // A new lead takes the episode over, reviews and all, and may now close it.
        let colleague_id = user_id(&app, "colleague@west.test").await;
        app.db
            .add_team_member(khan, colleague_id, kindred_store::today())
            .await
            .unwrap();
        assert_eq!(
            post(&lead, &app, &stage, &[("csrf", &lt), ("stage", "plan")]).await.0,
            303
        );
        let lead_to = format!("{page}/lead");
        let who = colleague_id.to_string();
        assert_eq!(
            post(&lead, &app, &lead_to, &[("csrf", &lt), ("lead", &who)]).await.0,
            303
        );
        let (_, theirs) = read(&app, &colleague, "/tasks").await;
        assert!(theirs.contains("Review the episode&#39;s plan"), "{theirs}");
        let (_, html) = read(&app, &colleague, &page).await;
        assert!(html.contains("Close the episode") && html.contains("Lead professional changed: colleague"));
        // Someone outside the team cannot be made lead.
        let teacher = user_id(&app, "teacher@west.test").await.to_string();
        assert_eq!(
            post(&colleague, &app, &lead_to, &[("csrf", &ct), ("lead", &teacher)])
                .await
                .0,
            404
        );
        // Without the CSRF token nothing changes.
        let (status, _) = post(&lead, &app, &format!("{page}/step-down"), &[("csrf", "wrong")]).await;
        assert_ne!(status, 303);
    }
}

#[tokio::test]
async fn inboxes_show_only_their_own_tasks_and_no_family_out_of_reach() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let (khan, okafor) = (app.world.khan_family, app.world.other_family);
        let tenant = app.db.tenant_by_code("west").await.unwrap().id;
        let lead_id = user_id(&app, "lead@west.test").await;
        let today = kindred_store::today();
        let task = |family: i64, user: Option<i64>, team: Option<i64>, days: i64, title: &str| NewTask {
            tenant_id: tenant,
            kind: "follow_up",
            family_id: Some(family),
            episode_id: None,
            assigned_user_id: user,
            assigned_team_id: team,
            title: title.into(),
            due_on: today + time::Duration::days(days),
            created_by_user_id: None,
        };
        // A task about a family the lead may not see (someone assigned it wrongly).
        app.db
            .add_task(&task(okafor, Some(lead_id), None, 3, "Ask Chidi about school"))
            .await
            .unwrap();

        // Adding a follow-up: refused without saying what, then added.
        let (lead, lt) = app.sign_in("lead@west.test").await;
        let path = format!("/families/{khan}/tasks/new");
        let (status, form) = read(&app, &lead, &path).await;
        assert_eq!(status, 200);
        assert!(form.contains("for=\"title\""));
        let (status, html) = post(
            &lead,
            &app,
            &path,
            &[
                ("csrf", &lt),
                ("title", ""),
                ("assignee", "me"),
                ("due_day", "1"),
                ("due_month", "1"),
                ("due_year", "2099"),
            ],
        )
        .await;
        assert_eq!(status, 422);
        assert!(html.contains("href=\"#title\">Enter what needs doing"), "{html}");
        let (status, _) = post(
            &lead,
            &app,
            &path,
            &[
                ("csrf", &lt),
                ("title", "Book the nursery visit"),
                ("assignee", "me"),
                ("due_day", "1"),
                ("due_month", "1"),
                ("due_year", "2099"),
            ],
        )
        .await;
        assert_eq!(status, 303);
        let (_, family) = read(&app, &lead, &format!("/families/{khan}")).await;
        assert!(family.contains("Book the nursery visit"));

        // The lead's inbox: their tasks; the one out of reach shows neither family nor title.
        let (_, inbox) = read(&app, &lead, "/tasks").await;
        assert!(inbox.contains("Book the nursery visit") && inbox.contains("Khan household"));
        assert!(inbox.contains("A family you do not have access to"));
        assert!(!inbox.contains("Okafor") && !inbox.contains("Chidi"), "{inbox}");

        // A colleague's inbox does not hold the lead's tasks, nor may they complete them.
        let mine = app.db.tasks_of_user(lead_id, true, 10).await.unwrap();
        let booked = mine.iter().find(|t| t.title == "Book the nursery visit").unwrap().id;
        let (colleague, ct) = app.sign_in("colleague@west.test").await;
        let (_, theirs) = read(&app, &colleague, "/tasks").await;
        assert!(!theirs.contains("Book the nursery visit") && theirs.contains("Nothing to do"));
        let done = format!("/tasks/{booked}/done");
        assert_eq!(post(&colleague, &app, &done, &[("csrf", &ct)]).await.0, 404);
        assert_eq!(
            post(&lead, &app, &done, &[("csrf", &lt)]).await,
            (303, "/tasks".to_string())
        );
        assert_eq!(app.db.task(booked).await.unwrap().unwrap().status, "done");

        // A team's inbox: the team's tasks and its members'.
        let hv = app.db.user(lead_id).await.unwrap().organisation_id;
        let team = app.db.create_team(tenant, hv, None, "West HV north").await.unwrap();
        for email in ["north1@west.test", "north2@west.test"] {
            app.db
                .create_user(&NewUser {
                    tenant_id: tenant,
                    organisation_id: hv,
                    team_id: Some(team.id),
                    email: email.into(),
                    display_name: email.split('@').next().unwrap().into(),
                    profession: Profession::HealthVisitor,
                    roles: vec![Role::Practitioner],
                    password_hash: kindred_web::passwords::hash(crate::PASSWORD),
                })
                .await
                .unwrap();
        }
        let north1 = user_id(&app, "north1@west.test").await;
        app.db
            .add_task(&task(khan, None, Some(team.id), -2, "Missed immunisation check"))
            .await
            .unwrap();
        app.db
            .add_task(&task(khan, Some(north1), None, 5, "Weigh the baby"))
            .await
            .unwrap();
        let (north2, nt) = app.sign_in("north2@west.test").await;
        let (_, team_inbox) = read(&app, &north2, "/tasks/team").await;
        assert!(team_inbox.contains("Missed immunisation check") && team_inbox.contains("Weigh the baby"));
        assert!(
            team_inbox.find("Missed immunisation check") < team_inbox.find("Weigh the baby"),
            "overdue first"
        );
        assert!(team_inbox.contains("Overdue"));
        let (_, own) = read(&app, &north2, "/tasks").await;
        assert!(!own.contains("Weigh the baby"), "only mine at /tasks");
        let team_task = app.db.tasks_of_team(team.id, true, 10).await.unwrap()[0].id;
        assert_eq!(
            post(
                &north2,
                &app,
                &format!("/tasks/{team_task}/done"),
                &[("csrf", &nt), ("back", "/tasks/team")]
            )
            .await,
            (303, "/tasks/team".to_string())
        );
        let (_, none) = read(&app, &colleague, "/tasks/team").await;
        assert!(none.contains("You are not in a team"));
    }
}

#[tokio::test]
async fn each_role_lands_on_a_home_page_for_its_work() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let khan = app.world.khan_family;
        let tenant = app.db.tenant_by_code("west").await.unwrap().id;
        let lead_id = user_id(&app, "lead@west.test").await;
        let today = kindred_store::today();
        for (days, title) in [(20, "Later visit"), (-4, "Overdue check-in")] {
            app.db
                .add_task(&NewTask {
                    tenant_id: tenant,
                    kind: "follow_up",
                    family_id: Some(khan),
                    episode_id: None,
                    assigned_user_id: Some(lead_id),
                    assigned_team_id: None,
                    title: title.into(),
                    due_on: today + time::Duration::days(days),
                    created_by_user_id: None,
                })
                .await
                .unwrap();
        }
        app.db
            .open_episode(tenant, khan, None, Some(lead_id), "3", None, today)
            .await
            .unwrap();
        app.db
            .notify(lead_id, None, "Triage made you lead professional")
            .await
            .unwrap();

        // A practitioner: their tasks (overdue first), new alerts, then their families.
        let (lead, _) = app.sign_in("lead@west.test").await;
        let (_, home) = read(&app, &lead, "/").await;
        let at = |w: &str| home.find(w).unwrap_or_else(|| panic!("{w} in {home}"));
        assert!(at("Your tasks") < at("Overdue check-in"));
        assert!(at("Overdue check-in") < at("Later visit"));
        assert!(home.contains("2 open, <strong>1 overdue</strong>"));
        assert!(at("New alerts") < at("Triage made you lead professional"));
        assert!(at("Later visit") < at("Your families</h2>"));
        assert!(home.contains("Khan household"));

        // A triage officer: the queue first.
        let (triage, _) = app.sign_in("triage@west.test").await;
        let (_, home) = read(&app, &triage, "/").await;
        assert!(home.find("referrals waiting for triage").unwrap() < home.find("Your families</h2>").unwrap());
        assert!(!home.contains("Your tasks"));

        // A manager: each worker's caseload, and what is overdue across the team.
        let (manager, _) = app.sign_in("manager@west.test").await;
        let (_, home) = read(&app, &manager, "/").await;
        assert!(home.contains("Caseload: West Health Visiting"), "{home}");
        let row = home
            .split("<th scope=\"row\" class=\"govuk-table__header\">lead</th>")
            .nth(1)
            .unwrap();
        let cells: Vec<&str> = row
            .split("</tr>")
            .next()
            .unwrap()
            .split("govuk-table__cell--numeric\">")
            .skip(1)
            .map(|c| c.split('<').next().unwrap())
            .collect();
        assert_eq!(cells[..3], ["1", "1", "2"], "{row}");
        assert!(home.contains("Overdue across the team"));
        assert!(home.contains("Overdue check-in") && !home.contains("Later visit"));

        // An administrator: no case work.
        let (admin, _) = app.sign_in("admin@west.test").await;
        let (_, home) = read(&app, &admin, "/").await;
        assert!(!home.contains("Your tasks") && !home.contains("Caseload"));
    }
}
