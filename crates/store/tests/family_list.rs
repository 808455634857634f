//! A worker's list of families on a big caseload: newest first, paged, and
//! counted exactly up to `COUNT_CAP`, then "more than". Both backends.

use kindred_domain::model::Role;
use kindred_store::search::{COUNT_CAP, Total};
use kindred_store::testing;
use time::macros::date;

#[tokio::test]
async fn a_long_list_pages_newest_first_and_counts_up_to_the_cap() {
    for db in testing::fresh_databases().await {
        let (tenant_id, creator) = testing::early_help_worker(&db, &[Role::Practitioner]).await;
        let subject = db.user(creator.user_id).await.unwrap().subject();
        let mut made = vec![];
        for n in 0..COUNT_CAP + 3 {
            let f = db
                .create_family(tenant_id, &format!("Family {n}"), &creator, date!(2026 - 01 - 05))
                .await
                .unwrap();
            made.push(f.id);
            if n == 2 {
                let (rows, total) = db.visible_families(&subject, 25, 0).await.unwrap();
                assert_eq!((rows.len(), total), (3, Total::Exactly(3)), "{:?}", db.backend());
            }
        }
        // Made one after another: the newest (highest id on a tie) first.
        made.reverse();
        let (rows, total) = db.visible_families(&subject, 26, 0).await.unwrap();
        assert_eq!(total, Total::MoreThan(COUNT_CAP), "{:?}", db.backend());
        assert_eq!(
            rows.iter().map(|r| r.id).collect::<Vec<_>>(),
            made[..26],
            "{:?}",
            db.backend()
        );
        let (last, _) = db.visible_families(&subject, 26, COUNT_CAP).await.unwrap();
        assert_eq!(
            last.iter().map(|r| r.id).collect::<Vec<_>>(),
            made[COUNT_CAP as usize..]
        );
    }
}
