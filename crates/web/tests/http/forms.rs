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
    assert!(
        body.contains("value=\"Agnieszka\""),
        "what was typed is kept"
    );

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
    let page = c
        .get(app.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Agnieszka Nowak")
            && page.contains("999 000 0018")
            && page.contains("W2 1AA")
    );
    assert!(page.contains("you are in the team around the family"));
}
