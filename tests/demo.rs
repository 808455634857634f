//! The demo over real HTTP: what each demo user finds on signing in. A
//! newcomer must see the front door at work, not empty pages.

use kindred_demo::{DEMO_PASSWORD, Options};
use kindred_domain::referral::Route;
use kindred_store::Db;
use kindred_store::referrals::QueueFilter;
use kindred_store::testing;

struct Demo {
    base: String,
    db: Db,
    large_family: i64,
    needs_add_up: i64,
    portal_code: String,
    glass: kindred_demo::glass::Glass,
    /// The consent lines `kindred demo` prints.
    consent: Vec<String>,
    sar_subject: i64,
}

async fn demo(db: Db) -> Demo {
    let opts = Options {
        families: 300,
        ..Options::default()
    };
    let summary = kindred_demo::build(&db, &opts, &|_, _| {})
        .await
        .expect("demo builds")
        .expect("into an empty database");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let served = db.clone();
    tokio::spawn(async move { kindred_web::serve(served, Default::default(), listener).await });
    Demo {
        base,
        db,
        large_family: summary.large_families[0].1,
        needs_add_up: summary.needs_add_up[0].1,
        portal_code: summary.portal_codes[0].1.clone(),
        glass: summary.glass[0].clone(),
        consent: summary.consent.clone(),
        sar_subject: summary.sar_subjects[0].1,
    }
}

fn csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_string()
}

impl Demo {
    async fn sign_in(&self, email: &str) -> reqwest::Client {
        let c = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let page = self.get(&c, "/login").await.1;
        let res = c
            .post(format!("{}/login", self.base))
            .form(&[
                ("csrf", csrf(&page).as_str()),
                ("email", email),
                ("password", DEMO_PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "sign-in for {email}");
        c
    }

    async fn sign_in_portal(&self, code: &str) -> reqwest::Client {
        let c = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let page = self.get(&c, "/portal/sign-in").await.1;
        let res = c
            .post(format!("{}/portal/sign-in", self.base))
            .form(&[("csrf", csrf(&page).as_str()), ("code", code)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "portal sign-in with the demo's code");
        c
    }

    async fn get(&self, c: &reqwest::Client, path: &str) -> (u16, String) {
        let res = c.get(format!("{}{path}", self.base)).send().await.unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }
}

#[tokio::test]
async fn each_demo_user_finds_the_front_door_at_work() {
    for db in testing::fresh_databases().await {
        let d = demo(db).await;
        let west = d.db.tenant_by_code("westminster").await.unwrap();

        // Triage: a queue from every route, some overdue, on the home page and the queue.
        let triage = d.sign_in("triage@westminster.example").await;
        let (_, home) = d.get(&triage, "/").await;
        assert!(home.contains("referrals waiting for triage"), "{home}");
        let (status, queue) = d.get(&triage, "/triage").await;
        assert_eq!(status, 200);
        for route in ["Self-referral", "Step-down", "Professional referral", "Overdue"] {
            assert!(queue.contains(route), "{route} in the queue");
        }
        // A self-referral with the parent's name misspelt still finds them.
        let (self_referrals, _) =
            d.db.triage_queue(
                west.id,
                &QueueFilter {
                    route: Some(Route::SelfReferral),
                    ..Default::default()
                },
                500,
                0,
            )
            .await
            .unwrap();
        let mut matched = false;
        for r in self_referrals.iter().filter(|r| r.family_id.is_none()) {
            let (_, page) = d.get(&triage, &format!("/referrals/{}", r.id)).await;
            matched |= page.contains("Possible matches for") && page.contains("/link\"");
        }
        assert!(matched, "a typo'd self-referral offers its family as a match");
        let (_, panels) = d.get(&triage, "/panels").await;
        assert!(panels.contains("Upcoming"));

        // The voluntary sector worker: their referrals and what was decided, never the 360°.
        let vcs = d.sign_in("vcs@westminster.example").await;
        let (_, sent) = d.get(&vcs, "/referrals").await;
        assert!(sent.contains("Awaiting triage"), "{sent}");
        assert!(sent.contains("Signpost to a service"));
        let (_, notes) = d.get(&vcs, "/notifications").await;
        assert!(notes.contains("has been triaged"));
        let vcs_user = d.db.user_by_email("vcs@westminster.example").await.unwrap().unwrap();
        let decided = d.db.referrals_sent_by(vcs_user.id, 50).await.unwrap();
        let decided = decided
            .iter()
            .find(|r| r.status == "decided")
            .expect("a decided referral");
        let family = d.db.referral(decided.id).await.unwrap().unwrap().family_id.unwrap();
        let (status, _) = d.get(&vcs, &format!("/families/{family}/profile")).await;
        assert_ne!(status, 200, "a referrer never sees the 360° profile");

        // The health visitor: the family of eight's full profile, and the decision on their referral.
        let hv = d.sign_in("hv@westminster.example").await;
        let (status, profile) = d.get(&hv, &format!("/families/{}/profile", d.large_family)).await;
        assert_eq!(status, 200);
        assert!(profile.contains("500 contacts with 10 agencies"), "{profile}");
        assert!(profile.contains("Child in need"));
        // A family where three services' single needs add up, which none saw alone.
        let (status, family) = d.get(&hv, &format!("/families/{}", d.needs_add_up)).await;
        assert_eq!(status, 200);
        assert!(
            family.contains("id=\"needs-add-up\""),
            "needs add up on the family page"
        );
        // A parent of the family of eight signs in to the portal with the printed code.
        let parent = d.sign_in_portal(&d.portal_code).await;
        let (status, portal) = d.get(&parent, "/portal").await;
        assert_eq!(status, 200);
        assert!(portal.contains("Your family plan") && portal.contains("Your lead professional"));
        // Transparency: the privacy officer finds realistic reads in the audit
        // trail and the printed parent's subject access request bundle.
        let privacy = d.sign_in("privacy@westminster.example").await;
        let (status, audit) = d.get(&privacy, "/privacy/audit?action=read").await;
        assert_eq!(status, 200);
        assert!(audit.contains("They are in the team around the family"), "{audit}");
        let (status, sar) = d.get(&privacy, &format!("/privacy/sar/{}", d.sar_subject)).await;
        assert_eq!(status, 200);
        assert!(
            sar.contains("Contacts they were present at") && sar.contains("Recorded by"),
            "{sar}"
        );
        // Child development against Westminster's made-up cut-offs, and the
        // family's early help assessments, completed and draft.
        let (status, development) = d.get(&hv, &format!("/families/{}/development", d.large_family)).await;
        assert_eq!(status, 200);
        assert!(development.contains("Below cut-off"));
        assert!(
            development.contains("No cut-off configured"),
            "36 months has none in Westminster"
        );
        assert!(development.contains("Integrated review at two"));
        assert!(development.contains("Not on track"));
        let (_, early_help) = d
            .get(&hv, &format!("/families/{}/early-help-assessments", d.large_family))
            .await;
        assert!(early_help.contains("Completed"));
        assert!(early_help.contains("Draft"));
        let admin = d.sign_in("admin@westminster.example").await;
        let (status, cutoffs) = d.get(&admin, "/admin/asq-cutoffs").await;
        assert_eq!(status, 200);
        assert!(cutoffs.contains("25 / 35"));
        let (_, home) = d.get(&hv, "/").await;
        assert!(home.contains("new notification"));
        assert!(home.contains("Welcome visit") && home.contains("Overdue"), "{home}");
        let (_, team) = d.get(&hv, "/tasks/team").await;
        assert!(team.contains("Missed immunisations this month"), "{team}");

        // The early help worker: reviews due, some overdue, and episodes with timelines.
        let eh = d.sign_in("earlyhelp@westminster.example").await;
        let (_, home) = d.get(&eh, "/").await;
        assert!(home.contains("Review due") && home.contains("Overdue"), "{home}");
        let eh_user =
            d.db.user_by_email("earlyhelp@westminster.example")
                .await
                .unwrap()
                .unwrap();
        let tasks = d.db.tasks_of_user(eh_user.id, true, 500).await.unwrap();
        let review = tasks.iter().find(|t| t.kind == "review_due").expect("a review due");
        let (family, episode) = (review.family_id.unwrap(), review.episode_id.unwrap());
        let (status, page) = d.get(&eh, &format!("/families/{family}/episodes/{episode}")).await;
        assert_eq!(status, 200);
        assert!(page.contains("Opened") && page.contains("Stage changed"), "{page}");

        // The outcomes framework (F15): the early help worker has a sustainment
        // check overdue; the family's register shows results with evidence, an
        // earlier check done, and distance travelled on repeated assessments.
        let checks: Vec<_> = tasks.iter().filter(|t| t.kind == "sustainment_check").collect();
        let overdue = checks
            .iter()
            .find(|t| t.due_on < kindred_store::today())
            .expect("an overdue sustainment check for the early help worker");
        let (family, episode) = (overdue.family_id.unwrap(), overdue.episode_id.unwrap());
        let (_, inbox) = d.get(&eh, "/tasks").await;
        assert!(
            inbox.contains(&format!("/families/{family}/episodes/{episode}/sustained")),
            "{inbox}"
        );
        let (status, page) = d
            .get(&eh, &format!("/families/{family}/episodes/{episode}/sustained"))
            .await;
        assert_eq!(status, 200);
        assert!(
            page.contains("Has this outcome been sustained?") && page.contains("Attendance 94%"),
            "{page}"
        );
        assert!(!page.contains("The check is not due until"), "{page}");
        let (status, page) = d.get(&eh, &format!("/families/{family}/outcomes")).await;
        assert_eq!(status, 200);
        for s in [
            "Getting a good education",
            "Outcome achieved",
            "Progress made",
            "Were the outcomes sustained?",
        ] {
            assert!(page.contains(s), "{s}: {page}");
        }
        let needs = d.db.family_needs(family).await.unwrap();
        assert!(needs.iter().any(|n| n.person_id.is_some()), "a need about one member");
        let mut distance = 0;
        for f in tasks.iter().filter_map(|t| t.family_id).chain([family]) {
            if d.db.assessments_of_family(f).await.unwrap().len() >= 2 {
                distance += 1;
                let (_, page) = d.get(&eh, &format!("/families/{f}/outcomes")).await;
                assert!(page.contains("Distance travelled by area"), "{page}");
            }
        }
        let done = d.db.tasks_of_user(eh_user.id, false, 500).await.unwrap();
        let done = done
            .iter()
            .find(|t| t.kind == "sustainment_check" && t.status == "done")
            .expect("a check done");
        let checked = d.db.family_needs(done.family_id.unwrap()).await.unwrap();
        assert!(
            checked.iter().any(|n| n.sustained == Some(true)) && checked.iter().any(|n| n.sustained == Some(false))
        );
        assert!(distance > 0, "distance travelled in the early help worker's families");
        let counts = d.db.need_result_counts(west.id).await.unwrap();
        for r in [None, Some("achieved"), Some("progress"), Some("not_achieved")] {
            assert!(counts.iter().any(|c| c.1.as_deref() == r), "{r:?} in {counts:?}");
        }
        // The framework, for the administrator.
        let admin = d.sign_in("admin@westminster.example").await;
        let (status, page) = d.get(&admin, "/admin/outcomes").await;
        assert_eq!(status, 200);
        assert!(
            page.contains("attendance below 90%") || page.contains("attendance is below 90%"),
            "{page}"
        );

        // The manager: their team's caseload and what is overdue across it.
        let manager = d.sign_in("manager@westminster.example").await;
        let (_, home) = d.get(&manager, "/").await;
        assert!(
            home.contains("Caseload:") && home.contains("Overdue across the team"),
            "{home}"
        );

        // Transitions: young people approaching 18, some with their transition-plan
        // task and some without, for the early help worker and their manager.
        for c in [&eh, &manager] {
            let (status, page) = d.get(c, "/transitions").await;
            assert_eq!(status, 200);
            assert!(
                page.contains("approaching 18</caption>") && page.contains("No task yet"),
                "{page}"
            );
            assert!(page.contains("Due "), "a transition-plan task: {page}");
        }
        let (status, page) = d.get(&eh, "/transitions/year-6").await;
        assert_eq!(status, 200);
        assert!(page.contains("in Year 6</caption>"), "{page}");

        // Break-glass: the privacy officer's queue (waiting, accepted, referred) and
        // the sealed family; the triage officer's emergency access now, with its
        // banner; and the worker the demo names cannot see the family it names.
        let privacy = d.sign_in("privacy@westminster.example").await;
        let (_, home) = d.get(&privacy, "/").await;
        assert!(home.contains("waiting for review"), "{home}");
        let (status, queue) = d.get(&privacy, "/privacy/reviews").await;
        assert_eq!(status, 200);
        assert!(
            queue.contains("Active now") && queue.contains("Accepted") && queue.contains("Referred for investigation"),
            "{queue}"
        );
        assert!(queue.contains("Safeguarding"), "{queue}");
        let (_, sealed) = d.get(&privacy, "/privacy/sealed").await;
        assert!(
            sealed.contains(&format!("Family {}", d.glass.sealed_family)),
            "{sealed}"
        );
        // Retention: quiet families flagged under Westminster's six-year rule,
        // one kept and one erased already.
        let (status, retention) = d.get(&privacy, "/privacy/retention").await;
        assert_eq!(status, 200);
        assert!(retention.contains("6 families flagged"), "{retention}");
        assert!(
            retention.contains("Kept") && retention.contains("Erased") && retention.contains("Flagged again from"),
            "{retention}"
        );
        let family = d.glass.triage_family.expect("the triage officer's break-glass");
        let (status, page) = d.get(&triage, &format!("/families/{family}")).await;
        assert_eq!(status, 200);
        assert!(page.contains("Emergency access until"), "{page}");
        let worker = d.sign_in(&d.glass.email).await;
        let (status, _) = d.get(&worker, &format!("/families/{}", d.glass.family_id)).await;
        assert_eq!(status, 404, "the family to break the glass on is not otherwise visible");

        // Consent and sharing: the Kensington and Chelsea worker in a
        // Westminster family's team under the bi-borough agreement sees it;
        // the family that withdrew its consent shows it.
        let path_in = |needle: &str| {
            d.consent
                .iter()
                .find(|l| l.contains(needle))
                .and_then(|l| l.rsplit(' ').next())
                .unwrap_or_else(|| panic!("a line about {needle}: {:?}", d.consent))
                .to_string()
        };
        let rbkc_eh = d.sign_in("earlyhelp@rbkc.example").await;
        let (status, page) = d.get(&rbkc_eh, &path_in("bi-borough")).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("you are in the team around the family"));
        let (status, page) = d.get(&eh, &path_in("withdrew")).await;
        assert_eq!(status, 200);
        assert!(page.contains("Withdrawn") && page.contains("Not shared"), "{page}");
        let admin = d.sign_in("admin@westminster.example").await;
        let (_, page) = d.get(&admin, "/admin/sharing-agreements").await;
        assert!(page.contains("Westminster early help partnership"));
        assert!(page.contains("bi-borough early help"));

        // The feeds: the data officer's imports (one with rejected rows), a
        // match review queue with candidates, and the hubs' reach with
        // welcome contacts made; a hub worker's team has welcome tasks.
        let data = d.sign_in("data@westminster.example").await;
        let (_, home) = d.get(&data, "/").await;
        assert!(home.contains("Your work as data officer"), "{home}");
        let (status, imports) = d.get(&data, "/imports").await;
        assert_eq!(status, 200);
        for feed in [
            "Monthly live births",
            "Antenatal bookings",
            "Missed immunisations",
            "housing-register.csv",
        ] {
            assert!(imports.contains(feed), "{feed} missing from the imports");
        }
        let queue = d.db.review_queue(west.id, 100).await.unwrap();
        assert!(queue.len() >= 5, "{} records to review", queue.len());
        let (status, page) = d.get(&data, &format!("/matches/{}", queue[0].source_record_id)).await;
        assert_eq!(status, 200);
        assert!(page.contains("Field by field: match weight"), "{page}");
        let runs = d.db.import_runs(west.id, 50).await.unwrap();
        assert!(runs.iter().any(|r| r.rows_rejected > 0), "a run with rejected rows");
        assert!(runs.iter().all(|r| r.status == "done"));
        let (status, reach) = d.get(&manager, "/reach").await;
        assert_eq!(status, 200);
        assert!(
            reach.contains("Church Street Family Hub") && reach.contains("families registered"),
            "{reach}"
        );
        assert!(
            reach.matches(", 0 families registered").count() <= 1,
            "welcome contacts made in every hub: {reach}"
        );

        // The universal pathway: the health visitor's due and overdue list.
        let (status, pathway) = d.get(&hv, "/pathway").await;
        assert_eq!(status, 200);
        assert!(
            pathway.contains("Healthy Child Programme") && pathway.contains("Overdue"),
            "{pathway}"
        );

        // The dashboards: every indicator has figures this year, by hub and
        // by ward; the maturity matrix has two self-assessments, the latter up.
        let (status, dash) = d.get(&manager, "/dashboards?by=hub&months=12").await;
        assert_eq!(status, 200);
        let empty = dash.matches("Nothing recorded in this period").count();
        assert!(empty <= 1, "{empty} indicators without figures: {dash}");
        for needle in ["Church Street Family Hub", "Breastfeeding at 6–8 weeks", "Home visit"] {
            assert!(dash.contains(needle), "{needle} missing from the dashboards");
        }
        let (_, by_ward) = d.get(&manager, "/dashboards?by=ward&months=12").await;
        assert!(
            by_ward.contains("Westbourne") && by_ward.contains("Maida Vale"),
            "{by_ward}"
        );
        let (status, maturity) = d.get(&manager, "/maturity").await;
        assert_eq!(status, 200);
        assert_eq!(maturity.matches(", by Morgan Blake</caption>").count(), 2, "{maturity}");
        assert!(maturity.contains(">Up</td>"), "{maturity}");
        // Early identification: the triage officer and the manager find a
        // handful of families, each explained by facts from two or more
        // services, one already decided; the health visitor is not offered it.
        for who in ["triage@westminster.example", "manager@westminster.example"] {
            let c = d.sign_in(who).await;
            let (status, page) = d.get(&c, "/early-identification").await;
            assert_eq!(status, 200, "{who}");
            let listed = page.matches("class=\"govuk-summary-card\"").count();
            assert!((5..=12).contains(&listed), "{who}: {listed} families listed");
            let decided = &page[page.find(">Decided (").expect("a decided section")..];
            assert!(decided.contains("Offer of early help made"), "{decided}");
            for source in ["School absence", "Rent arrears", "Open to adult mental health services"] {
                assert!(page.contains(source), "{source} missing");
            }
        }
        let (status, _) = d.get(&hv, "/early-identification").await;
        assert_eq!(status, 404, "a health visitor's organisation is not a viewer");
        // Reports (issue 7): each borough's analyst signs in to a useful
        // home page, and sees the manager's shared report (figures, never a
        // family) and their own; the manager sees their three.
        for borough in ["westminster", "rbkc"] {
            let analyst = d.sign_in(&format!("analyst@{borough}.example")).await;
            let (_, home) = d.get(&analyst, "/").await;
            assert!(home.contains("Your work as analyst"), "{home}");
            let (status, list) = d.get(&analyst, "/reports").await;
            assert_eq!(status, 200);
            assert!(
                list.contains("Contacts by hub and month") && list.contains("People by age band and hub"),
                "{list}"
            );
            assert!(!list.contains("Outcomes of closed episodes"), "not shared: {list}");
            let id = list
                .split("href=\"/reports/")
                .skip(1)
                .map(|s| s.split('"').next().unwrap())
                .find(|s| s.parse::<i64>().is_ok())
                .expect("a saved report")
                .to_string();
            let (status, page) = d.get(&analyst, &format!("/reports/{id}")).await;
            assert_eq!(status, 200);
            assert!(page.contains("id=\"report-table\""), "{page}");
            assert_eq!(d.get(&analyst, &format!("/families/{}", d.large_family)).await.0, 404);
        }
        let (_, list) = d.get(&manager, "/reports").await;
        for name in [
            "Contacts by hub and month",
            "Outcomes of closed episodes",
            "Referrals by level of need",
        ] {
            assert!(list.contains(name), "{name}: {list}");
        }

        // Across the demo: episodes closed with each kind of outcome, reopened and stepped up.
        let kinds = d.db.episode_event_counts(west.id).await.unwrap();
        for kind in ["closed", "opened", "reopened", "stage_changed", "stepped_up"] {
            assert!(kinds.iter().any(|(k, n)| k == kind && *n > 0), "{kind}: {kinds:?}");
        }
    }
}

#[tokio::test]
async fn the_demo_shows_a_restricted_person_and_an_alert() {
    let d = demo(testing::fresh_sqlite().await).await;
    let hv = d.sign_in("hv@westminster.example").await;
    let (status, inbox) = d.get(&hv, "/tasks").await;
    assert_eq!(status, 200);
    assert!(
        inbox.contains("Child protection enquiry opened"),
        "an alert in the health visitor's inbox"
    );
    let user = d.db.user_by_email("hv@westminster.example").await.unwrap().unwrap();
    let criteria = kindred_store::search::SearchCriteria {
        name: Some("Nadia Hartley".into()),
        ..Default::default()
    };
    let hits = d.db.search_persons(&user.subject(), &criteria, 5).await.unwrap();
    let family = hits[0].families[0].0;
    let (_, page) = d.get(&hv, &format!("/families/{family}")).await;
    assert!(
        page.contains("12 Cedar Court"),
        "the lead professional sees the address"
    );
    assert!(d.db.restriction_facts(&[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_demo_has_a_directory_and_connections_in_every_status() {
    let d = demo(testing::fresh_sqlite().await).await;
    let public = reqwest::Client::new();
    for council in ["westminster", "rbkc"] {
        let (status, page) = d.get(&public, &format!("/directory?council={council}")).await;
        assert_eq!(status, 200);
        let total: i64 = page
            .split("id=\"results\">")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!((60..=140).contains(&total), "{council}: {total} services");
        let (_, page) = d
            .get(&public, &format!("/directory/start-for-life?council={council}"))
            .await;
        assert!(page.contains("Baby café"), "{page}");
    }
    let (_, page) = d
        .get(
            &public,
            "/directory?council=westminster&age=22&send=yes&need=send_support",
        )
        .await;
    assert!(page.contains("SEND youth club"), "{page}");
    // The VCS worker's organisation has requests in every status.
    let vcs = d.sign_in("vcs@westminster.example").await;
    let (status, inbox) = d.get(&vcs, "/connections").await;
    assert_eq!(status, 200);
    for s in ["Sent", "Opened", "Accepted", "Declined", "Completed"] {
        assert!(inbox.contains(&format!(">{s}</strong>")), "{s}: {inbox}");
    }
    // The health visitor follows the requests they sent.
    let hv = d.sign_in("hv@westminster.example").await;
    let (_, sent) = d.get(&hv, "/connections").await;
    assert!(
        sent.contains("Requests your organisation sent") && sent.contains("/connections/"),
        "{sent}"
    );
    // Someone of another organisation sees none of them.
    let nurse = d.sign_in("schoolnurse@westminster.example").await;
    let (_, none) = d.get(&nurse, "/connections").await;
    assert!(!none.contains("href=\"/connections/"), "{none}");
    // The administrator manages the directory.
    let admin = d.sign_in("admin@westminster.example").await;
    assert_eq!(d.get(&admin, "/admin/directory").await.0, 200);
}

/// `--no-casework`: the families, their people and the partner systems, and
/// nothing of the later stages (no feed imports, no directory), fast enough
/// to make the million-person benchmark database.
#[tokio::test]
async fn a_demo_without_casework_has_families_people_and_partner_systems_only() {
    let db = testing::fresh_sqlite().await;
    let opts = Options {
        families: 200,
        casework: false,
        ..Options::default()
    };
    let summary = kindred_demo::build(&db, &opts, &|_, _| {})
        .await
        .expect("demo builds")
        .expect("into an empty database");
    let ids = db.max_ids().await.unwrap();
    assert!(ids.family >= 200 && ids.person > 400, "families and their people");
    let stages: Vec<&str> = summary.stages.iter().map(|(s, _)| *s).collect();
    assert_eq!(stages, ["families", "partner systems", "analyze"]);
    let west = db.tenant_by_code("westminster").await.unwrap();
    assert!(
        !db.api_clients(west.id).await.unwrap().is_empty(),
        "the partner systems are registered"
    );
    assert!(db.directory_sources(west.id).await.unwrap().is_empty(), "no directory");
}
