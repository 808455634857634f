//! Typo-tolerant name search ranks by how close the names are, whichever
//! name (given or family) shares the typo's sound. Both backends.

use kindred_domain::model::{MemberRole, Role};
use kindred_store::search::SearchCriteria;
use kindred_store::{Db, testing};
use time::macros::date;

/// One family of `n` people named `given family`, made by `creator`.
async fn family_of(
    db: &Db,
    tenant_id: i64,
    creator: &kindred_store::families::Creator,
    given: &str,
    family: &str,
    n: usize,
) {
    let f = db
        .create_family(
            tenant_id,
            &format!("{family} household"),
            creator,
            date!(2026 - 01 - 05),
        )
        .await
        .unwrap();
    for _ in 0..n {
        let p = db
            .create_person(
                tenant_id,
                &testing::person_details(given, family, Some(date!(1990 - 03 - 04))),
            )
            .await
            .unwrap();
        db.add_member(f.id, p.id, MemberRole::Parent, date!(2026 - 01 - 05))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_typo_finds_the_names_it_is_close_to_past_many_that_only_share_its_sound() {
    for db in testing::fresh_databases().await {
        let (tenant_id, creator) = testing::early_help_worker(&db, &[Role::Practitioner]).await;
        let subject = db.user(creator.user_id).await.unwrap().subject();
        // Kwame and Khan share a sound (Soundex K500), and there are many
        // more Kwames, recorded first; "Kahn" is a typo of Khan, not of
        // Kwame. Likewise Jones and James (J520) for "Jmaes".
        family_of(&db, tenant_id, &creator, "Kwame", "Mensah", 200).await;
        family_of(&db, tenant_id, &creator, "Amina", "Khan", 5).await;
        family_of(&db, tenant_id, &creator, "Sam", "Jones", 200).await;
        family_of(&db, tenant_id, &creator, "James", "Okoro", 5).await;
        let search = |name: &str| SearchCriteria {
            name: Some(name.into()),
            ..Default::default()
        };

        let hits = db.search_persons(&subject, &search("Kahn"), 50).await.unwrap();
        let names: Vec<String> = hits.iter().map(|h| h.person.full_name()).collect();
        assert_eq!(hits.len(), 5, "{:?}: {names:?}", db.backend());
        assert!(names.iter().all(|n| n == "Amina Khan"), "{:?}: {names:?}", db.backend());
        // Each hit lists its family by the family's name, not the person's surname.
        assert!(
            hits.iter()
                .all(|h| h.families.iter().map(|f| f.1.as_str()).eq(["Khan household"]) && h.postcode.is_none())
        );

        let hits = db.search_persons(&subject, &search("Jmaes"), 50).await.unwrap();
        let jameses = hits.iter().filter(|h| h.person.given_name == "James").count();
        assert_eq!(jameses, 5, "{:?}", db.backend());

        // Two words: the first by either name, the second too.
        let hits = db.search_persons(&subject, &search("Kahn Amina"), 50).await.unwrap();
        assert_eq!(hits.len(), 5, "{:?}", db.backend());
    }
}
