use crate::spawn_app;

#[tokio::test]
async fn creating_a_family_reports_each_bad_field_and_loses_nothing() {
    let app = spawn_app().await;
    let (c, token) = app.sign_in("colleague@west.test").await;
    let res = c
        .post(app.url("/families/new"))
        .form(&[
            ("csrf", token.as_str()),
            ("household_name", "Nowak household"),
            ("role", "parent"),
            ("given_name", "Agnieszka"),
            ("family_name", "Nowak"),
            ("dob_day", "31"),
            ("dob_month", "2"),
            ("dob_year", "1990"),
            ("nhs_number", "999 000 0019"),
            ("postcode", "not a postcode"),
            ("line1", "1 High Street"),
            ("town", "London"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(body.contains("govuk-error-summary"));
    assert!(body.contains("href=\"#dob\">Date of birth must be a real date"));
    assert!(body.contains("check digit"));
    assert!(body.contains("Enter a full UK postcode"));
    assert!(body.contains("value=\"Agnieszka\""), "what was typed is kept");

    let res = c
        .post(app.url("/families/new"))
        .form(&[
            ("csrf", token.as_str()),
            ("household_name", "Nowak household"),
            ("role", "parent"),
            ("given_name", "Agnieszka"),
            ("family_name", "Nowak"),
            ("dob_day", "28"),
            ("dob_month", "2"),
            ("dob_year", "1990"),
            ("nhs_number", "999 000 0018"),
            ("postcode", "w2 1aa"),
            ("line1", "1 High Street"),
            ("town", "London"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let page = c.get(app.url(&location)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Agnieszka Nowak") && page.contains("999 000 0018") && page.contains("W2 1AA"));
    assert!(page.contains("you are in the team around the family"));
}

#[tokio::test]
async fn administrators_manage_users_and_hubs_but_nobody_else_can() {
    let app = spawn_app().await;
    let (practitioner, _) = app.sign_in("lead@west.test").await;
    for path in ["/admin/users", "/admin/organisations"] {
        assert_eq!(practitioner.get(app.url(path)).send().await.unwrap().status(), 404);
    }
    let (admin, token) = app.sign_in("admin@west.test").await;
    let users = admin
        .get(app.url("/admin/users"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        users.contains("lead@west.test") && !users.contains("stranger@east.test"),
        "own tenant only"
    );

    let res = admin
        .post(app.url("/admin/hub-sites"))
        .form(&[
            ("csrf", token.as_str()),
            ("hub_name", "Harrow Road Hub"),
            ("hub_areas", "W9, W10 4, 99"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("99") && body.contains("is not a postcode district (like W2)"),
        "{body}"
    );
    let res = admin
        .post(app.url("/admin/hub-sites"))
        .form(&[
            ("csrf", token.as_str()),
            ("hub_name", "Harrow Road Hub"),
            ("hub_areas", "w9, W10 4"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let page = admin
        .get(app.url("/admin/organisations"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Harrow Road Hub") && page.contains("W10 4, W9"));

    let res = admin
        .post(app.url("/admin/users"))
        .form(&[
            ("csrf", token.as_str()),
            ("display_name", "New Worker"),
            ("email", "new@west.test"),
            ("organisation_id", "1"),
            ("profession", "health_visitor"),
            ("role_practitioner", "yes"),
            ("password", "short"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422, "the password policy applies");
    let res = admin
        .post(app.url("/admin/users"))
        .form(&[
            ("csrf", token.as_str()),
            ("display_name", "New Worker"),
            ("email", "new@west.test"),
            ("organisation_id", "1"),
            ("profession", "health_visitor"),
            ("role_practitioner", "yes"),
            ("password", "a perfectly long password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let c = crate::client();
    let page = c.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let res = c
        .post(app.url("/login"))
        .form(&[
            ("csrf", crate::csrf(&page).as_str()),
            ("email", "new@west.test"),
            ("password", "a perfectly long password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "the new user can sign in");
}

#[tokio::test]
async fn a_common_password_is_refused_with_an_error_naming_the_field() {
    let app = spawn_app().await;
    let (admin, token) = app.sign_in("admin@west.test").await;
    let form = |password: &'static str| {
        [
            ("csrf", token.clone()),
            ("display_name", "Common Password".to_string()),
            ("email", "common@west.test".to_string()),
            ("organisation_id", "1".to_string()),
            ("profession", "health_visitor".to_string()),
            ("role_practitioner", "yes".to_string()),
            ("password", password.to_string()),
        ]
    };
    for common in ["password1234", "Liverpool2024!", "common.password"] {
        let res = admin
            .post(app.url("/admin/users"))
            .form(&form(common))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{common} is refused");
        let page = res.text().await.unwrap();
        assert!(
            page.contains("href=\"#password\">Password is too common or easy to guess"),
            "{page}"
        );
        assert!(page.contains("govuk-form-group--error"));
        assert!(!page.contains(common), "the password is never sent back");
    }
    assert!(
        app.db.user_by_email("common@west.test").await.unwrap().is_none(),
        "nobody was made"
    );
    let res = admin
        .post(app.url("/admin/users"))
        .form(&form("kettle orbit lantern 47"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "an uncommon password is taken");
    assert!(app.db.user_by_email("common@west.test").await.unwrap().is_some());
}

#[tokio::test]
async fn the_lead_professional_changes_with_history_and_the_team_changes_with_it() {
    let app = spawn_app().await;
    let id = app.world.khan_family;
    let colleague = app.db.user_by_email("colleague@west.test").await.unwrap().unwrap();
    let lead = app.db.user_by_email("lead@west.test").await.unwrap().unwrap();
    let (c, token) = app.sign_in("lead@west.test").await;
    let post = |path: String, user: i64| {
        let c = c.clone();
        let token = token.clone();
        let url = app.url(&path);
        async move {
            c.post(url)
                .form(&[("csrf", token), ("user_id", user.to_string())])
                .send()
                .await
                .unwrap()
        }
    };
    // A partner system's account is never a lead professional, even by a handmade request.
    let west = app.db.tenant_by_code("west").await.unwrap();
    let hv = app
        .db
        .organisations(west.id)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.name == "West Health Visiting")
        .unwrap();
    let (system, _) = kindred_web::api_auth::register(&app.db, west.id, hv.id, "EPR", None, None)
        .await
        .unwrap();
    assert_eq!(post(format!("/families/{id}/lead"), system.user_id).await.status(), 400);
    assert_eq!(post(format!("/families/{id}/lead"), colleague.id).await.status(), 303);
    let refused = post(format!("/families/{id}/team/{}/end", colleague.id), 0).await;
    assert_eq!(refused.status(), 400, "the lead cannot simply leave the team");
    let page = c
        .get(app.url(&format!("/families/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Lead professional: <strong>colleague</strong>"));
    let history = app.db.lead_history(id).await.unwrap();
    assert_eq!(
        history.iter().map(|h| h.user_id).collect::<Vec<_>>(),
        vec![colleague.id, lead.id]
    );
    // The former lead leaves the team; through their organisation's involvement they still see the family.
    assert_eq!(
        post(format!("/families/{id}/team/{}/end", lead.id), 0).await.status(),
        303
    );
    let facts = app.db.family_facts(id).await.unwrap().unwrap();
    assert_eq!(facts.team_user_ids, vec![colleague.id]);
    assert_eq!(
        c.get(app.url(&format!("/families/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

/// A NUL character (`%00`) in an address or a form is refused with a clear
/// message on both backends; PostgreSQL cannot store one, so without the
/// guard it would be a server error.
#[tokio::test]
async fn a_nul_character_is_refused_with_a_message_not_a_server_error() {
    let mut dbs = vec![kindred_store::testing::fresh_sqlite().await];
    if let Some(pg) = kindred_store::testing::fresh_postgres().await {
        dbs.push(pg);
    }
    for db in dbs {
        let backend = db.backend();
        let app = crate::spawn_with(db, kindred_web::Config::default()).await;
        let (c, token) = app.sign_in("colleague@west.test").await;
        for path in ["/families/1%00", "/search?q=a%00b", "/api/v1/referrals/KR%00-1"] {
            let res = c.get(app.url(path)).send().await.unwrap();
            assert_eq!(res.status(), 400, "{backend:?} GET {path}");
            assert!(
                res.text().await.unwrap().contains("NUL character"),
                "{backend:?} GET {path}"
            );
        }
        let res = c
            .post(app.url("/search"))
            .form(&[("csrf", token.as_str()), ("name", "Kh\0an")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{backend:?} search form");
        assert!(res.text().await.unwrap().contains("The form holds a NUL character"));
        let res = crate::client()
            .post(app.url("/login"))
            .form(&[("csrf", "x"), ("email", "a\0@west.test"), ("password", "p")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{backend:?} sign-in form");
        // The same search without the NUL works.
        let res = c
            .post(app.url("/search"))
            .form(&[("csrf", token.as_str()), ("name", "Khan")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{backend:?}");
    }
}
