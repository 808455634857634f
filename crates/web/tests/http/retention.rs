//! Retention over real HTTP (issue 9): the privacy officer — and nobody
//! else — sets the rule, sees the families it flags (names and numbers, no
//! case content), keeps one or erases it; bad answers are explained field by
//! field; an erased family is gone for everyone, and the audit chain still
//! verifies.

use kindred_store::testing;

use crate::break_glass::privacy_officer;
use crate::spawn_with;

async fn fetch(c: &reqwest::Client, url: String) -> String {
    c.get(url).send().await.unwrap().text().await.unwrap()
}

async fn post(c: &reqwest::Client, url: String, form: &[(&str, &str)]) -> (u16, String) {
    let res = c.post(url).form(form).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn the_privacy_officer_reviews_flagged_families_and_erases_one() {
    for db in testing::fresh_databases().await {
        let backend = db.backend();
        let app = spawn_with(db, Default::default()).await;
        privacy_officer(&app).await;
        let (lead, ltoken) = app.sign_in("lead@west.test").await;
        let res = lead
            .post(app.url("/families/new"))
            .form(&[
                ("csrf", ltoken.as_str()),
                ("household_name", "Oldfield household"),
                ("role", "parent"),
                ("given_name", "Gwen"),
                ("family_name", "Oldfield"),
                ("dob_day", "1"),
                ("dob_month", "2"),
                ("dob_year", "1980"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{backend:?}");
        let family: i64 = res.headers()["location"].to_str().unwrap()["/families/".len()..]
            .parse()
            .unwrap();
        // Nothing has happened on it for ten years.
        let old_ms = kindred_store::now_ms() - 10 * 365 * 24 * 3600 * 1000;
        testing::execute(
            &app.db,
            &format!("UPDATE families SET updated_at_ms = {old_ms} WHERE id = {family}"),
        )
        .await
        .unwrap();

        // Only the privacy officer has the page.
        let res = lead.get(app.url("/privacy/retention")).send().await.unwrap();
        assert_eq!(res.status(), 404, "{backend:?}");
        let (officer, token) = app.sign_in("privacy@west.test").await;
        let page = fetch(&officer, app.url("/privacy/retention")).await;
        assert!(page.contains("Oldfield household") && page.contains(&format!("Family {family}")));
        assert!(page.contains("the default is used"), "{backend:?}");
        assert!(!page.contains("Gwen"), "no one's name, only the family's");
        let khan = app.world.khan_family;
        assert!(
            !page.contains(&format!("Family {khan}<")),
            "an active family is not flagged"
        );

        // The rule: a clear message for a bad number.
        for (years, message) in [
            ("abc", "must be a whole number"),
            ("0", "from 1 to 100"),
            ("", "Enter the number of years"),
        ] {
            let (status, page) = post(
                &officer,
                app.url("/privacy/retention"),
                &[("csrf", &token), ("years", years)],
            )
            .await;
            assert_eq!(status, 422, "{backend:?} years={years:?}");
            assert!(page.contains(message), "{backend:?} years={years:?}");
        }
        let (status, _) = post(
            &officer,
            app.url("/privacy/retention"),
            &[("csrf", &token), ("years", "12")],
        )
        .await;
        assert_eq!(status, 303);
        let page = fetch(&officer, app.url("/privacy/retention")).await;
        assert!(
            !page.contains("Oldfield household"),
            "{backend:?}: not yet under a 12-year rule"
        );
        assert_eq!(
            officer
                .get(app.url(&format!("/privacy/retention/{family}")))
                .send()
                .await
                .unwrap()
                .status(),
            404
        );
        post(
            &officer,
            app.url("/privacy/retention"),
            &[("csrf", &token), ("years", "6")],
        )
        .await;

        // A family that is not flagged cannot be reviewed.
        assert_eq!(
            officer
                .get(app.url(&format!("/privacy/retention/{khan}")))
                .send()
                .await
                .unwrap()
                .status(),
            404
        );
        let review = app.url(&format!("/privacy/retention/{family}"));
        let page = fetch(&officer, review.clone()).await;
        assert!(page.contains("Review Oldfield household"));
        let (status, page) = post(&officer, review.clone(), &[("csrf", &token)]).await;
        assert_eq!(status, 422);
        assert!(page.contains("Select whether to keep or erase") && page.contains("Enter the reason"));
        let (status, page) = post(
            &officer,
            review.clone(),
            &[("csrf", &token), ("decision", "erase"), ("reason", "Period passed")],
        )
        .await;
        assert_eq!(status, 422);
        assert!(page.contains("Confirm that you understand"), "{backend:?}");
        assert!(page.contains("Period passed"), "what was typed is kept");
        assert_eq!(app.db.family(family).await.unwrap().id, family, "nothing erased yet");

        let (status, _) = post(
            &officer,
            review.clone(),
            &[
                ("csrf", &token),
                ("decision", "erase"),
                ("reason", "Period passed"),
                ("confirm", "yes"),
            ],
        )
        .await;
        assert_eq!(status, 303, "{backend:?}");
        let page = fetch(&officer, app.url("/privacy/retention")).await;
        assert!(page.contains("Erased") && page.contains("1 person and"), "{backend:?}");
        assert!(!page.contains("Oldfield household"));
        let res = lead.get(app.url(&format!("/families/{family}"))).send().await.unwrap();
        assert_eq!(res.status(), 404, "{backend:?}: gone for the lead too");
        assert!(app.db.verify_audit().await.unwrap().broken.is_none());
        // Erased once: the review page is gone too.
        assert_eq!(officer.get(review).send().await.unwrap().status(), 404);
    }
}
