//! The front door over real HTTP: a partner's referral into the one queue,
//! triage matching people to records, the 360° profile, the decision with its
//! rationale, the referrer told the outcome, and the panel.

use kindred_store::testing;

use crate::{TestApp, spawn_with};

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// Every (referral person id, candidate person id) offered on a referral page.
fn link_forms(html: &str, referral: i64) -> Vec<(i64, i64)> {
    let prefix = format!("action=\"/referrals/{referral}/people/");
    let mut out = vec![];
    for (at, _) in html.match_indices(&prefix) {
        let rest = &html[at + prefix.len()..];
        let rp: i64 = rest.split('/').next().unwrap().parse().unwrap();
        if !rest[rp.to_string().len()..].starts_with("/link\"") {
            continue;
        }
        let pid_at = rest.find("name=\"person_id\" value=\"").unwrap() + "name=\"person_id\" value=\"".len();
        let pid: i64 = rest[pid_at..].split('"').next().unwrap().parse().unwrap();
        out.push((rp, pid));
    }
    out
}

async fn read(app: &TestApp, c: &reqwest::Client, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn post(c: &reqwest::Client, app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    c.post(app.url(path)).form(form).send().await.unwrap()
}

#[tokio::test]
async fn a_partners_referral_is_triaged_and_the_referrer_sees_only_the_outcome() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let khan = app.world.khan_family;
        let (vcs, vt) = app.sign_in("vcs@west.test").await;

        // Start a referral and describe two people, one of them with a typo.
        let res = post(&vcs, &app, "/referrals", &[("csrf", &vt)]).await;
        assert_eq!(res.status(), 303);
        let edit = location(&res);
        let id: i64 = edit
            .trim_start_matches("/referrals/")
            .trim_end_matches("/edit")
            .parse()
            .unwrap();
        for (given, family, d, m, y, role) in [
            ("Zara", "Kahn", "5", "5", "2022", "child"),
            ("Aisha", "Khan", "1", "1", "1990", "parent"),
        ] {
            let res = post(
                &vcs,
                &app,
                &format!("/referrals/{id}/people"),
                &[
                    ("csrf", &vt),
                    ("given_name", given),
                    ("family_name", family),
                    ("dob_day", d),
                    ("dob_month", m),
                    ("dob_year", y),
                    ("role", role),
                    ("postcode", "W2 5AA"),
                ],
            )
            .await;
            assert_eq!(res.status(), 303, "adding {given}");
        }
        // A bad person is refused with the field named and what was typed kept.
        let res = post(
            &vcs,
            &app,
            &format!("/referrals/{id}/people"),
            &[
                ("csrf", &vt),
                ("given_name", "Sam"),
                ("family_name", "Khan"),
                ("dob_day", "31"),
                ("dob_month", "2"),
                ("dob_year", "2020"),
                ("role", "child"),
            ],
        )
        .await;
        assert_eq!(res.status(), 422);
        let body = res.text().await.unwrap();
        assert!(body.contains("href=\"#dob\""), "error summary links to the date");
        assert!(body.contains("value=\"Sam\""), "what was typed is kept");

        // Sending with reasons missing: GOV.UK errors, and the story typed is kept.
        let res = post(
            &vcs,
            &app,
            &format!("/referrals/{id}/edit"),
            &[
                ("csrf", &vt),
                ("action", "send"),
                ("summary", "Mum is struggling since the move."),
            ],
        )
        .await;
        assert_eq!(res.status(), 422);
        let body = res.text().await.unwrap();
        assert!(body.contains("Select at least one reason for the referral"));
        assert!(body.contains("Select whether the family has given consent"));
        assert!(body.contains("Mum is struggling since the move."));
        // …and is still there when the draft is opened again.
        let again = vcs.get(app.url(&edit)).send().await.unwrap().text().await.unwrap();
        assert!(again.contains("Mum is struggling since the move."));

        let today = kindred_store::today();
        let (d, m, y) = (
            today.day().to_string(),
            (today.month() as u8).to_string(),
            today.year().to_string(),
        );
        let res = post(
            &vcs,
            &app,
            &format!("/referrals/{id}/edit"),
            &[
                ("csrf", &vt),
                ("action", "send"),
                ("need", "parent_mental_health"),
                ("need", "school_attendance"),
                ("summary", "Mum is struggling since the move. Zara is missing school."),
                ("urgency", "routine"),
                ("family_aware", "yes"),
                ("consent_given", "yes"),
                ("consent_by", "Aisha Khan"),
                ("consent_on_day", &d),
                ("consent_on_month", &m),
                ("consent_on_year", &y),
                ("consent_scope", "Early help partners"),
                ("referrer_phone", "020 7946 0000"),
            ],
        )
        .await;
        assert_eq!(res.status(), 303);
        assert_eq!(location(&res), format!("/referrals/{id}?sent=1"));
        let reference = app.db.referral(id).await.unwrap().unwrap().reference;

        // The referrer has no access to the family through their referral.
        for path in [format!("/families/{khan}"), format!("/families/{khan}/profile")] {
            assert_eq!(vcs.get(app.url(&path)).send().await.unwrap().status(), 404, "{path}");
        }

        // Triage sees it in the queue, with possible matches for both people.
        let (triage, tt) = app.sign_in("triage@west.test").await;
        let queue = triage
            .get(app.url("/triage"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(queue.contains(&reference));
        let page = triage
            .get(app.url(&format!("/referrals/{id}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("Possible matches for Zara Kahn"));
        let links = link_forms(&page, id);
        assert!(
            links.iter().any(|(_, p)| *p == app.world.khan_child),
            "Zara is offered: {links:?}"
        );
        // Match each person to their best candidate (listed first).
        let mut done = std::collections::BTreeSet::new();
        for (rp, pid) in links {
            if done.insert(rp) {
                let res = post(
                    &triage,
                    &app,
                    &format!("/referrals/{id}/people/{rp}/link"),
                    &[("csrf", &tt), ("person_id", &pid.to_string())],
                )
                .await;
                assert_eq!(res.status(), 303);
            }
        }
        assert_eq!(done.len(), 2);
        // Their family is offered; attaching it opens the 360° profile to triage.
        let res = post(
            &triage,
            &app,
            &format!("/referrals/{id}/family"),
            &[("csrf", &tt), ("family", &khan.to_string())],
        )
        .await;
        assert_eq!(res.status(), 303);
        let profile = triage
            .get(app.url(&format!("/families/{khan}/profile")))
            .send()
            .await
            .unwrap();
        assert_eq!(profile.status(), 200);
        assert!(profile.text().await.unwrap().contains("Zara Khan"));

        // A decision needs a rationale.
        let eh = app.db.user_by_email("eh@west.test").await.unwrap().unwrap();
        let res = post(
            &triage,
            &app,
            &format!("/referrals/{id}/decision"),
            &[
                ("csrf", &tt),
                ("level", "3"),
                ("outcome", "multi_agency"),
                ("lead_user_id", &eh.id.to_string()),
                ("rationale", "  "),
            ],
        )
        .await;
        assert_eq!(res.status(), 422);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("Enter the rationale for the decision")
        );
        let res = post(
            &triage,
            &app,
            &format!("/referrals/{id}/decision"),
            &[
                ("csrf", &tt),
                ("level", "3"),
                ("outcome", "multi_agency"),
                ("lead_user_id", &eh.id.to_string()),
                (
                    "rationale",
                    "Several small needs add up; school and health both involved.",
                ),
            ],
        )
        .await;
        assert_eq!(res.status(), 303);
        // Deciding twice is refused.
        let res = post(
            &triage,
            &app,
            &format!("/referrals/{id}/decision"),
            &[
                ("csrf", &tt),
                ("level", "1"),
                ("outcome", "nfa"),
                ("rationale", "again"),
            ],
        )
        .await;
        assert_eq!(res.status(), 404);

        // The family now has a lead professional and an open episode.
        assert_eq!(app.db.family(khan).await.unwrap().lead_user_id, Some(eh.id));
        let since = today - time::Duration::days(365);
        let profile = app.db.profile(khan, since).await.unwrap();
        assert!(profile.values().any(|p| p.episodes.iter().any(|e| e.status == "open")));
        // Triage's basis was the open referral: it has gone.
        assert_eq!(
            triage
                .get(app.url(&format!("/families/{khan}")))
                .send()
                .await
                .unwrap()
                .status(),
            404
        );

        // The referrer sees the outcome, in the referral and a notification, never the rationale.
        let status = vcs
            .get(app.url(&format!("/referrals/{id}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(status.contains("Multi-agency early help with a lead professional"));
        assert!(!status.contains("Several small needs add up"));
        assert!(!status.contains("360° profile"));
        let notes = vcs
            .get(app.url("/notifications"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(notes.contains(&reference));
        assert_eq!(
            app.db
                .unread_notifications(app.db.user_by_email("vcs@west.test").await.unwrap().unwrap().id)
                .await
                .unwrap(),
            0
        );
        // The new lead was told too.
        assert_eq!(app.db.unread_notifications(eh.id).await.unwrap(), 1);
        // A stranger in another tenant cannot see the referral at all.
        let (stranger, _) = app.sign_in("stranger@east.test").await;
        assert_eq!(
            stranger
                .get(app.url(&format!("/referrals/{id}")))
                .send()
                .await
                .unwrap()
                .status(),
            404
        );
    }
}

#[tokio::test]
async fn the_panel_discusses_a_family_and_its_record_shows_the_decision() {
    let app = crate::spawn_app().await;
    let khan = app.world.khan_family;
    app.db.open_referral(1, khan).await.unwrap();
    let (triage, tt) = app.sign_in("triage@west.test").await;
    let next_week = kindred_store::today() + time::Duration::days(7);
    let res = post(
        &triage,
        &app,
        "/panels",
        &[
            ("csrf", &tt),
            ("title", "Family Matters panel"),
            ("day", &next_week.day().to_string()),
            ("month", &(next_week.month() as u8).to_string()),
            ("year", &next_week.year().to_string()),
        ],
    )
    .await;
    // Without a date (these field names are not the form's), the meeting is refused.
    assert_eq!(res.status(), 422);
    let res = post(
        &triage,
        &app,
        "/panels",
        &[
            ("csrf", &tt),
            ("title", "Family Matters panel"),
            ("on_day", &next_week.day().to_string()),
            ("on_month", &(next_week.month() as u8).to_string()),
            ("on_year", &next_week.year().to_string()),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let meeting: i64 = location(&res).trim_start_matches("/panels/").parse().unwrap();
    let res = post(
        &triage,
        &app,
        &format!("/families/{khan}/panel"),
        &[
            ("csrf", &tt),
            ("meeting_id", &meeting.to_string()),
            ("reason", "Attendance and housing"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let items = app.db.items(meeting).await.unwrap();
    assert_eq!(items.len(), 1);
    let eh = app.db.user_by_email("eh@west.test").await.unwrap().unwrap();
    let res = post(
        &triage,
        &app,
        &format!("/panels/{meeting}/items/{}", items[0].id),
        &[
            ("csrf", &tt),
            ("decision", "Offer family support; school to monitor attendance."),
            ("lead_user_id", &eh.id.to_string()),
            ("action", "Invite family to a TAF meeting"),
            ("owner", "eh"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    // The allocated lead now sees the family, and its record shows what the panel decided.
    let (lead, _) = app.sign_in("eh@west.test").await;
    let page = lead
        .get(app.url(&format!("/families/{khan}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Family Matters panel"));
    assert!(page.contains("Offer family support; school to monitor attendance."));
    assert_eq!(app.db.family(khan).await.unwrap().lead_user_id, Some(eh.id));
    // A practitioner who neither runs panels nor attends sees no meeting.
    let (teacher, _) = app.sign_in("teacher@west.test").await;
    assert_eq!(
        teacher
            .get(app.url(&format!("/panels/{meeting}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(teacher.get(app.url("/panels")).send().await.unwrap().status(), 404);
}

/// A minimal SMTP server that keeps each message's DATA, so the test sees what
/// Kindred really sent over the protocol.
async fn smtp_sink() -> (u16, std::sync::Arc<tokio::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = std::sync::Arc::new(tokio::sync::Mutex::new(Vec::new()));
    let kept = got.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(d) = data.as_mut() {
                        if line == "." {
                            kept.lock().await.push(data.take().unwrap());
                            w.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            d.push_str(&line);
                            d.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            w.write_all(b"221 bye\r\n").await.unwrap();
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    w.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, got)
}

#[tokio::test]
async fn the_referrer_is_emailed_the_outcome_when_smtp_is_configured() {
    let (port, got) = smtp_sink().await;
    let config = kindred_web::Config {
        smtp: Some(kindred_web::mail::Smtp {
            url: format!("smtp://127.0.0.1:{port}"),
            from: "Kindred <kindred@west.test>".into(),
        }),
        ..Default::default()
    };
    let app = spawn_with(testing::fresh_sqlite().await, config).await;
    let (vcs, vt) = app.sign_in("vcs@west.test").await;
    let res = post(&vcs, &app, "/referrals", &[("csrf", &vt), ("family_id", "")]).await;
    let id: i64 = location(&res)
        .trim_start_matches("/referrals/")
        .trim_end_matches("/edit")
        .parse()
        .unwrap();
    post(
        &vcs,
        &app,
        &format!("/referrals/{id}/people"),
        &[
            ("csrf", &vt),
            ("given_name", "Ben"),
            ("family_name", "Ode"),
            ("dob_day", "2"),
            ("dob_month", "3"),
            ("dob_year", "2019"),
            ("role", "child"),
        ],
    )
    .await;
    let res = post(
        &vcs,
        &app,
        &format!("/referrals/{id}/edit"),
        &[
            ("csrf", &vt),
            ("action", "send"),
            ("need", "behaviour"),
            ("summary", "Behaviour at home has got worse."),
            ("urgency", "routine"),
            ("family_aware", "yes"),
            ("consent_given", "no"),
            ("referrer_email", "vcs@west.test"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let reference = app.db.referral(id).await.unwrap().unwrap().reference;
    let (triage, tt) = app.sign_in("triage@west.test").await;
    let res = post(
        &triage,
        &app,
        &format!("/referrals/{id}/decision"),
        &[
            ("csrf", &tt),
            ("level", "1"),
            ("outcome", "signpost"),
            ("signpost", "Parenting course at the hub"),
            ("rationale", "Universal offer fits."),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let mut message = None;
    for _ in 0..60 {
        if let Some(m) = got.lock().await.first().cloned() {
            message = Some(m);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    // Long lines travel quoted-printable: undo its soft line breaks.
    let message = message.expect("an email reached the SMTP server").replace("=\n", "");
    assert!(message.contains("To: vcs@west.test"), "{message}");
    assert!(message.contains(&reference));
    assert!(message.contains("Signpost to a service or the universal offer"));
    // Names and the rationale stay out of email.
    assert!(!message.contains("Ode") && !message.contains("Universal offer fits"));
    assert!(
        app.db.pending_emails(10).await.unwrap().is_empty(),
        "sent mail leaves the outbox"
    );
}

#[tokio::test]
async fn a_family_referred_from_its_record_arrives_with_its_people_matched() {
    let app = crate::spawn_app().await;
    let khan = app.world.khan_family;
    let (lead, lt) = app.sign_in("lead@west.test").await;
    let res = post(
        &lead,
        &app,
        "/referrals",
        &[("csrf", &lt), ("family_id", &khan.to_string())],
    )
    .await;
    assert_eq!(res.status(), 303);
    let id: i64 = location(&res)
        .trim_start_matches("/referrals/")
        .trim_end_matches("/edit")
        .parse()
        .unwrap();
    let people = app.db.referral_people(id).await.unwrap();
    assert_eq!(people.len(), 2, "the family's current members come with it");
    assert!(people.iter().all(|p| p.person_id.is_some()));
    // Someone else the lead works with is found by search and added by record.
    let found = post(
        &lead,
        &app,
        &format!("/referrals/{id}/people/find"),
        &[("csrf", &lt), ("name", "Zara")],
    )
    .await;
    assert!(found.text().await.unwrap().contains("Zara Khan"));
    // A family the lead cannot see is not offered, even by name.
    let found = post(
        &lead,
        &app,
        &format!("/referrals/{id}/people/find"),
        &[("csrf", &lt), ("name", "Chidi")],
    )
    .await;
    let found = found.text().await.unwrap();
    assert!(found.contains("No one you work with matches"));
    assert!(!found.contains("Chidi Khan"));
    // Adding a person the lead may not see by forging the id is refused.
    let other = app.db.members(app.world.other_family).await.unwrap()[0].person.id;
    let res = post(
        &lead,
        &app,
        &format!("/referrals/{id}/people/known"),
        &[("csrf", &lt), ("person_id", &other.to_string()), ("role", "child")],
    )
    .await;
    assert_eq!(res.status(), 404);
    // Someone else cannot touch this draft.
    let (colleague, ct) = app.sign_in("colleague@west.test").await;
    let res = post(
        &colleague,
        &app,
        &format!("/referrals/{id}/edit"),
        &[("csrf", &ct), ("action", "save")],
    )
    .await;
    assert_eq!(res.status(), 404);
    // A draft is in nobody's queue.
    let (triage, _) = app.sign_in("triage@west.test").await;
    let queue = triage
        .get(app.url("/triage"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(queue.contains("0 referrals waiting"));
    assert_eq!(
        triage
            .get(app.url(&format!("/referrals/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn administrators_set_when_referrals_are_due() {
    let app = crate::spawn_app().await;
    let (admin, at) = app.sign_in("admin@west.test").await;
    let res = post(&admin, &app, "/admin/triage", &[("csrf", &at), ("hours", "0")]).await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Enter a whole number of hours between 1 and 672")
    );
    let res = post(
        &admin,
        &app,
        "/admin/triage",
        &[("csrf", &at), ("hours", "16"), ("working_hours", "yes")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let rule = app.db.triage_rule(1).await.unwrap();
    assert_eq!((rule.hours, rule.working_hours_only), (16, true));
    // A referral received now is due within working hours, 16 working hours on.
    let family = app.world.khan_family;
    let id = app.db.open_referral(1, family).await.unwrap();
    let r = app.db.referral(id).await.unwrap().unwrap();
    assert!(kindred_domain::referral::in_working_hours(r.due_at_ms));
    assert_eq!(rule.elapsed_ms(r.received_at_ms, r.due_at_ms), 16 * 3_600_000);
    // Only administrators of the tenant change it.
    let (triage, tt) = app.sign_in("triage@west.test").await;
    assert_eq!(triage.get(app.url("/admin/triage")).send().await.unwrap().status(), 404);
    let res = post(&triage, &app, "/admin/triage", &[("csrf", &tt), ("hours", "1")]).await;
    assert_eq!(res.status(), 404);
    assert_eq!(app.db.triage_rule(1).await.unwrap().hours, 16);
}

/// Sends a minimal referral as `c` (already signed in with token `t`): one new child.
pub async fn send_referral(app: &TestApp, c: &reqwest::Client, t: &str, route: &str, child: &str) -> i64 {
    let res = post(c, app, "/referrals", &[("csrf", t), ("route", route)]).await;
    assert_eq!(res.status(), 303);
    let id: i64 = location(&res)
        .trim_start_matches("/referrals/")
        .trim_end_matches("/edit")
        .parse()
        .unwrap();
    let res = post(
        c,
        app,
        &format!("/referrals/{id}/people"),
        &[
            ("csrf", t),
            ("given_name", child),
            ("family_name", "Ode"),
            ("dob_day", "2"),
            ("dob_month", "3"),
            ("dob_year", "2019"),
            ("role", "child"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let res = post(
        c,
        app,
        &format!("/referrals/{id}/edit"),
        &[
            ("csrf", t),
            ("action", "send"),
            ("need", "behaviour"),
            ("summary", "Behaviour at home has got worse."),
            ("urgency", "routine"),
            ("family_aware", "yes"),
            ("consent_given", "no"),
            ("referrer_phone", "020 7946 0000"),
            ("step_down", if route == "step_down" { "yes" } else { "" }),
        ],
    )
    .await;
    assert_eq!(res.status(), 303, "sending {child}");
    id
}

#[tokio::test]
async fn step_down_from_social_care_comes_through_the_same_door() {
    let app = crate::spawn_app().await;
    let (sw, st) = app.sign_in("sw@west.test").await;
    let mine = sw
        .get(app.url("/referrals"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(mine.contains("Step a family down to early help"));
    let down = send_referral(&app, &sw, &st, "step_down", "Stepdown").await;
    assert_eq!(app.db.referral(down).await.unwrap().unwrap().route.code(), "step_down");
    // Only children's social care can step down: anyone else's referral is a professional one.
    let (vcs, vt) = app.sign_in("vcs@west.test").await;
    let prof = send_referral(&app, &vcs, &vt, "step_down", "Professional").await;
    assert_eq!(
        app.db.referral(prof).await.unwrap().unwrap().route.code(),
        "professional"
    );
    let (triage, _) = app.sign_in("triage@west.test").await;
    let all = triage
        .get(app.url("/triage"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(all.contains("2 referrals waiting"));
    let only = triage
        .get(app.url("/triage?route=step_down"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(only.contains("1 referral waiting"));
    assert!(only.contains("Stepdown Ode") && !only.contains("Professional Ode"));
    let need = triage
        .get(app.url("/triage?need=debt"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(need.contains("0 referrals waiting"));
}

#[tokio::test]
async fn the_360_profile_counts_contacts_per_service_and_never_shows_note_text() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let khan = app.world.khan_family;
        let lead = app.db.user_by_email("lead@west.test").await.unwrap().unwrap();
        let sw = app.db.user_by_email("sw@west.test").await.unwrap().unwrap();
        let members: Vec<i64> = app
            .db
            .members(khan)
            .await
            .unwrap()
            .iter()
            .map(|m| m.person.id)
            .collect();
        let today = kindred_store::today();
        let contact = |author: &kindred_store::users::User, days: i64, people: Vec<i64>, visibility| {
            kindred_store::contacts::NewContact {
                tenant_id: author.tenant_id,
                family_id: khan,
                organisation_id: author.organisation_id,
                author_user_id: author.id,
                occurred_on: today - time::Duration::days(days),
                mode: "home_visit",
                visibility,
                body: format!("CONFIDENTIAL-NOTE-{days}"),
                people,
                readers: vec![],
            }
        };
        // Three health visiting contacts (one with both members present), two by
        // social care, and one from before the last 12 months that must not count.
        for (author, days, people, vis) in [
            (&lead, 3, members.clone(), "team"),
            (&lead, 40, vec![members[1]], "profession"),
            (&lead, 200, vec![members[0]], "sensitive"),
            (&sw, 10, vec![members[1]], "organisation"),
            (&sw, 100, vec![members[1]], "team"),
            (&sw, 500, vec![members[1]], "team"),
        ] {
            app.db.add_contact(&contact(author, days, people, vis)).await.unwrap();
        }
        app.db
            .add_flag(
                lead.tenant_id,
                khan,
                Some(members[1]),
                "child_in_need",
                "Child in need plan",
                Some(sw.id),
                today,
            )
            .await
            .unwrap();
        let since = today - time::Duration::days(365);
        assert_eq!(app.db.member_contact_total(khan, since).await.unwrap(), 5);

        let (c, _) = app.sign_in("lead@west.test").await;
        let res = c
            .get(app.url(&format!("/families/{khan}/profile")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let page = res.text().await.unwrap();
        // Each contact counted once in the headline, though one had two members present.
        assert!(page.contains("5 contacts with 2 agencies"), "{page}");
        assert!(page.contains("Child in need: Child in need plan"));
        assert!(
            !page.contains("CONFIDENTIAL-NOTE"),
            "note text never reaches the profile"
        );
    }
}

/// The text of each of the four notes the contact-notes test records.
const EVERY_NOTE: [&str; 4] = [
    "TEAM-NOTE",
    "HEALTH-VISITORS-ONLY",
    "HV-SERVICE-ONLY",
    "SENSITIVE-NAMED",
];

#[tokio::test]
async fn contact_notes_are_read_only_as_their_visibility_allows_and_counts_stay_visible() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let khan = app.world.khan_family;
        let today = kindred_store::today();
        let teacher = app.db.user_by_email("teacher@west.test").await.unwrap().unwrap();
        let colleague = app.db.user_by_email("colleague@west.test").await.unwrap().unwrap();
        app.db
            .add_involvement(khan, teacher.organisation_id, "Education", today)
            .await
            .unwrap();
        app.db.add_team_member(khan, colleague.id, today).await.unwrap();
        let members: Vec<i64> = app
            .db
            .members(khan)
            .await
            .unwrap()
            .iter()
            .map(|m| m.person.id)
            .collect();
        let (lead, lt) = app.sign_in("lead@west.test").await;
        let path = format!("/families/{khan}/contacts/new");
        let (d, m, y) = (
            today.day().to_string(),
            (today.month() as u8).to_string(),
            today.year().to_string(),
        );
        // Bad input: GOV.UK errors for each field, and the note typed is kept.
        let res = post(
            &lead,
            &app,
            &path,
            &[
                ("csrf", &lt),
                ("occurred_day", "31"),
                ("occurred_month", "2"),
                ("occurred_year", &y),
                ("text", "Typed before the mistake"),
            ],
        )
        .await;
        assert_eq!(res.status(), 422);
        let body = res.text().await.unwrap();
        for field in ["#occurred", "#mode", "#people", "#visibility"] {
            assert!(
                body.contains(&format!("href=\"{field}\"")),
                "{field} in the error summary"
            );
        }
        assert!(body.contains("Typed before the mistake"));
        // Four notes, one of each visibility; the sensitive one names the colleague.
        let person = members[0].to_string();
        let colleague_id = colleague.id.to_string();
        for (vis, text) in [
            ("team", "TEAM-NOTE"),
            ("profession", "HEALTH-VISITORS-ONLY"),
            ("organisation", "HV-SERVICE-ONLY"),
            ("sensitive", "SENSITIVE-NAMED"),
        ] {
            let mut form = vec![
                ("csrf", lt.as_str()),
                ("occurred_day", d.as_str()),
                ("occurred_month", m.as_str()),
                ("occurred_year", y.as_str()),
                ("mode", "home_visit"),
                ("person", person.as_str()),
                ("visibility", vis),
                ("text", text),
            ];
            if vis == "sensitive" {
                form.push(("reader", colleague_id.as_str()));
            }
            let res = post(&lead, &app, &path, &form).await;
            assert_eq!(res.status(), 303, "recording a {vis} note");
        }
        let contacts = format!("/families/{khan}/contacts");
        // The author reads everything.
        let (_, page) = read(&app, &lead, &contacts).await;
        for t in EVERY_NOTE {
            assert!(page.contains(t), "the author reads {t}");
        }
        // A health visitor colleague in the same service, named on the sensitive note.
        let (hv, _) = app.sign_in("colleague@west.test").await;
        let (_, page) = read(&app, &hv, &contacts).await;
        for t in EVERY_NOTE {
            assert!(page.contains(t), "the colleague reads {t}");
        }
        // The school sees that four contacts happened, and reads only the team's note.
        let (school, _) = app.sign_in("teacher@west.test").await;
        let (status, page) = read(&app, &school, &contacts).await;
        assert_eq!(status, 200);
        assert!(page.contains("4 contacts recorded"));
        assert!(page.contains("TEAM-NOTE"));
        for t in ["HEALTH-VISITORS-ONLY", "HV-SERVICE-ONLY", "SENSITIVE-NAMED"] {
            assert!(!page.contains(t), "the teacher must not read {t}");
        }
        assert_eq!(page.matches("Restricted").count(), 3);
        let (_, family) = read(&app, &school, &format!("/families/{khan}")).await;
        assert!(family.contains("4 contacts with the family in the last 12 months"));
        // No working relationship: not even the list.
        let (sw, _) = app.sign_in("sw@west.test").await;
        assert_eq!(read(&app, &sw, &contacts).await.0, 404);
    }
}

#[tokio::test]
async fn a_family_assessment_is_told_once_read_by_partners_and_shows_distance_travelled() {
    for db in testing::fresh_databases().await {
        let app = spawn_with(db, Default::default()).await;
        let khan = app.world.khan_family;
        let teacher = app.db.user_by_email("teacher@west.test").await.unwrap().unwrap();
        app.db
            .add_involvement(khan, teacher.organisation_id, "Education", kindred_store::today())
            .await
            .unwrap();
        let (lead, lt) = app.sign_in("lead@west.test").await;
        let path = format!("/families/{khan}/assessments/new");
        let areas = kindred_domain::assessment::default_areas();
        // Missing scores: an error for each, and the family's words kept.
        let res = post(
            &lead,
            &app,
            &path,
            &[("csrf", &lt), ("words-housing", "Damp in the bedroom"), ("changes", "")],
        )
        .await;
        assert_eq!(res.status(), 422);
        let page = res.text().await.unwrap();
        assert!(page.contains("href=\"#housing\""));
        assert!(page.contains("href=\"#changes\""));
        assert!(page.contains("Damp in the bedroom"));
        // The first assessment: every area scored 3; the second, 7.
        for score in ["3", "7"] {
            let keys: Vec<String> = areas.iter().map(|a| format!("score-{}", a.code)).collect();
            let mut form: Vec<(&str, &str)> = vec![("csrf", &lt), ("changes", "Getting to school on time")];
            form.extend(keys.iter().map(|k| (k.as_str(), score)));
            if score == "3" {
                form.push(("words-housing", "Damp in the bedroom"));
            }
            let res = post(&lead, &app, &path, &form).await;
            assert_eq!(res.status(), 303, "assessment scored {score}");
            if score == "3" {
                // Starting the next one, the family's words are already there.
                let again = lead.get(app.url(&path)).send().await.unwrap().text().await.unwrap();
                assert!(again.contains("Damp in the bedroom"));
                assert!(again.contains("Getting to school on time"));
            }
        }
        // A partner with access reads the same assessment and the distance travelled.
        let (school, _) = app.sign_in("teacher@west.test").await;
        let (status, page) = read(&app, &school, &format!("/families/{khan}/assessments")).await;
        assert_eq!(status, 200);
        assert!(page.contains("Distance travelled"));
        assert!(page.contains("<svg"));
        assert!(page.contains("3 → 7"));
        assert!(page.contains("Damp in the bedroom"));
        // Without a working relationship, nothing.
        let (sw, _) = app.sign_in("sw@west.test").await;
        assert_eq!(read(&app, &sw, &format!("/families/{khan}/assessments")).await.0, 404);
    }
}
