//! The universal pathway over real HTTP (issue 7): the lead professional sees
//! a child's overdue review in the due and overdue list; a contact recorded
//! with that stage completes it; nobody outside the family's work sees the child.

use crate::{TestApp, spawn_app};

async fn get(app: &TestApp, c: &reqwest::Client, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn an_overdue_review_is_listed_until_a_contact_completes_it() {
    let app = spawn_app().await;
    let (lead, token) = app.sign_in("lead@west.test").await;
    // Zara Khan, born 5 May 2022: her 2–2½ year review closed on 5 November 2024.
    let (status, page) = get(&app, &lead, "/pathway").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Zara Khan") && page.contains("2–2½ year review"),
        "{page}"
    );
    assert!(page.contains("since 5 November 2024"), "{page}");
    let (_, form) = get(
        &app,
        &lead,
        &format!("/families/{}/contacts/new", app.world.khan_family),
    )
    .await;
    let option = format!("{}:two_year", app.world.khan_child);
    assert!(form.contains(&option), "{form}");
    // A stage that is not on offer is refused, and the contact is not recorded.
    let today = kindred_store::today();
    let (d, m, y) = (
        today.day().to_string(),
        (today.month() as u8).to_string(),
        today.year().to_string(),
    );
    let person = app.world.khan_child.to_string();
    let mut fields = vec![
        ("csrf", token.as_str()),
        ("occurred_day", d.as_str()),
        ("occurred_month", m.as_str()),
        ("occurred_year", y.as_str()),
        ("mode", "home_visit"),
        ("visibility", "team"),
        ("person", person.as_str()),
        ("text", "Two-year review at home: all areas on track."),
        ("pathway", "999:two_year"),
    ];
    let res = lead
        .post(app.url(&format!("/families/{}/contacts/new", app.world.khan_family)))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Choose a pathway stage from the list")
    );
    fields.pop();
    fields.push(("pathway", option.as_str()));
    let res = lead
        .post(app.url(&format!("/families/{}/contacts/new", app.world.khan_family)))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let (_, page) = get(&app, &lead, "/pathway").await;
    assert!(!page.contains("2–2½ year review</td>"), "completed: {page}");
    let done = app.db.pathway_completions(&[app.world.khan_child]).await.unwrap();
    assert_eq!(
        (done.len(), done[0].stage.as_str(), done[0].completed_on),
        (1, "two_year", today)
    );
    // Another authority's worker: not in their list; an administrator: not found.
    let (stranger, _) = app.sign_in("stranger@east.test").await;
    let (status, page) = get(&app, &stranger, "/pathway").await;
    assert_eq!(status, 200);
    assert!(!page.contains("Khan"), "{page}");
    let (admin, _) = app.sign_in("admin@west.test").await;
    assert_eq!(get(&app, &admin, "/pathway").await.0, 404);
    assert_eq!(get(&app, &admin, "/admin/pathway").await.0, 200);
}
