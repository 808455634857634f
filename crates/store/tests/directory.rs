//! The service directory's storage on every backend: a service saved with all
//! its children and read back whole; each search filter; upserts from an
//! external feed by (source, the feed's id) that replace children and keep
//! the UUID; the built-in needs taxonomy made once.

use kindred_domain::model::OrgKind;
use kindred_store::Db;
use kindred_store::directory::*;
use kindred_store::testing;

async fn term(db: &Db, code: &str) -> i64 {
    db.needs_terms()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.code == code)
        .unwrap()
        .id
}

fn service(tenant_id: i64, org: i64, name: &str) -> ServiceData {
    ServiceData {
        tenant_id,
        dir_organisation_id: org,
        name: name.into(),
        description: format!("About {name}"),
        status: "active".into(),
        modes: vec!["in_person".into()],
        ..Default::default()
    }
}

#[tokio::test]
async fn a_service_is_saved_whole_found_by_each_filter_and_upserted_from_a_feed() {
    for db in testing::fresh_databases().await {
        let t = db.create_tenant("west", "West").await.unwrap();
        let vcs = db
            .create_organisation(t.id, "West Family Action", OrgKind::Vcs)
            .await
            .unwrap();
        // The needs taxonomy exists after migration, once, however often it is ensured.
        let first = db.ensure_needs_taxonomy().await.unwrap();
        assert_eq!(db.ensure_needs_taxonomy().await.unwrap(), first);
        let needs = db.needs_terms().await.unwrap();
        assert_eq!(needs.len(), kindred_domain::directory::NEED_TERMS.len());
        assert_eq!(needs[0].code, kindred_domain::directory::NEED_TERMS[0].code);

        let org = db
            .create_dir_organisation(&OrganisationData {
                tenant_id: t.id,
                organisation_id: Some(vcs.id),
                name: "West Family Action".into(),
                description: "A family charity".into(),
                email: Some("hello@example.org".into()),
                website: None,
            })
            .await
            .unwrap();
        let hall = db
            .create_location(&LocationData {
                tenant_id: t.id,
                name: "Church Street Hub".into(),
                postcode: Some("W2 1AA".into()),
                latitude: Some(51.52),
                longitude: Some(-0.17),
                ..Default::default()
            })
            .await
            .unwrap();
        let feeding = term(&db, "infant_feeding").await;
        let youth = term(&db, "youth").await;
        let mut play = service(t.id, org, "Baby café");
        play.minimum_age = Some(0);
        play.maximum_age = Some(1);
        play.family_hub_offer = true;
        play.start_for_life = true;
        play.location_ids = vec![hall];
        play.schedules = vec![ScheduleData {
            location_id: Some(hall),
            freq: "WEEKLY".into(),
            byday: "MO,TH".into(),
            opens_at: Some("10:00".into()),
            closes_at: Some("12:00".into()),
            ..Default::default()
        }];
        play.costs = vec![CostData {
            option: "Session".into(),
            amount: None,
            amount_description: "Free".into(),
        }];
        play.languages = vec![LanguageData {
            name: "Arabic".into(),
            code: "ar".into(),
        }];
        play.contacts = vec![ContactData {
            name: "Duty worker".into(),
            phone: Some("020 7946 0000".into()),
            ..Default::default()
        }];
        play.areas = vec!["W2".into(), "W9".into()];
        play.term_ids = vec![feeding];
        play.connect_organisation_id = Some(vcs.id);
        let (play_id, play_uuid) = db.create_service(&play).await.unwrap();
        assert_eq!(uuid::Uuid::parse_str(&play_uuid).unwrap().get_version_num(), 4);

        let mut club = service(t.id, org, "SEND youth club");
        club.minimum_age = Some(13);
        club.maximum_age = Some(18);
        club.send_up_to_25 = true;
        club.modes = vec!["in_person".into(), "online".into()];
        club.areas = vec!["SW3".into()];
        club.term_ids = vec![youth];
        club.schedules = vec![ScheduleData {
            byday: "WE".into(),
            ..Default::default()
        }];
        club.costs = vec![CostData {
            option: "Term".into(),
            amount: Some(500),
            amount_description: "£5 a term".into(),
        }];
        let (club_id, _) = db.create_service(&club).await.unwrap();
        let mut everywhere = service(t.id, org, "Debt helpline");
        everywhere.modes = vec!["telephone".into()];
        let (line_id, _) = db.create_service(&everywhere).await.unwrap();

        let full = db.full_service_by_uuid(&play_uuid).await.unwrap().unwrap();
        assert_eq!(full.service.id, play_id);
        assert_eq!(full.organisation.name, "West Family Action");
        assert_eq!(full.locations.len(), 1);
        assert_eq!(full.locations[0].location.name, "Church Street Hub");
        assert_eq!(full.schedules[0].location_id, Some(hall));
        assert_eq!(full.schedules[0].service_at_location_id, Some(full.locations[0].id));
        assert_eq!((full.costs.len(), full.languages[0].code.as_str()), (1, "ar"));
        assert_eq!(full.contacts[0].phone.as_deref(), Some("020 7946 0000"));
        assert_eq!(full.modes, vec!["in_person"]);
        assert_eq!(
            full.areas.iter().map(|a| a.area.as_str()).collect::<Vec<_>>(),
            ["W2", "W9"]
        );
        assert_eq!(full.terms[0].code, "infant_feeding");
        assert_eq!(
            full.service.connect_organisation_name.as_deref(),
            Some("West Family Action")
        );

        let ids = |rows: Vec<ServiceRow>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
        let search = |f: ServiceFilter| {
            let db = db.clone();
            async move { db.directory_services_page(&f, 1, 50).await.unwrap() }
        };
        let all = ServiceFilter {
            tenant_id: Some(t.id),
            active_only: true,
            ..Default::default()
        };
        let (total, rows) = search(all.clone()).await;
        assert_eq!((total, ids(rows)), (3, vec![play_id, line_id, club_id]));
        let by = |f: ServiceFilter| search(f);
        assert_eq!(
            ids(by(ServiceFilter {
                term_id: Some(feeding),
                ..all.clone()
            })
            .await
            .1),
            [play_id]
        );
        assert_eq!(
            ids(by(ServiceFilter {
                age: Some(22),
                ..all.clone()
            })
            .await
            .1),
            [line_id]
        );
        assert_eq!(
            ids(by(ServiceFilter {
                age: Some(22),
                has_send: true,
                ..all.clone()
            })
            .await
            .1),
            [line_id, club_id]
        );
        assert_eq!(
            ids(by(ServiceFilter {
                age: Some(26),
                has_send: true,
                ..all.clone()
            })
            .await
            .1),
            [line_id]
        );
        assert_eq!(
            ids(by(ServiceFilter {
                district: Some("W2".into()),
                ..all.clone()
            })
            .await
            .1),
            [play_id, line_id]
        );
        assert_eq!(
            ids(by(ServiceFilter {
                mode: Some("online".into()),
                ..all.clone()
            })
            .await
            .1),
            [club_id]
        );
        assert_eq!(
            ids(by(ServiceFilter {
                free_only: true,
                ..all.clone()
            })
            .await
            .1),
            [play_id, line_id]
        );
        assert_eq!(
            ids(by(ServiceFilter {
                day: Some("TH".into()),
                ..all.clone()
            })
            .await
            .1),
            [play_id]
        );
        assert_eq!(
            ids(by(ServiceFilter {
                day: Some("TU".into()),
                ..all.clone()
            })
            .await
            .1),
            Vec::<i64>::new()
        );
        assert_eq!(
            ids(by(ServiceFilter {
                start_for_life: true,
                ..all.clone()
            })
            .await
            .1),
            [play_id]
        );
        assert_eq!(
            ids(by(ServiceFilter {
                connectable: true,
                ..all.clone()
            })
            .await
            .1),
            [play_id]
        );
        assert_eq!(
            ids(by(ServiceFilter {
                text: Some("café".into()),
                ..all.clone()
            })
            .await
            .1),
            [play_id]
        );
        let (total, page2) = db.directory_services_page(&all, 2, 2).await.unwrap();
        assert_eq!((total, ids(page2)), (3, vec![club_id]));

        // Editing replaces the children and keeps the UUID.
        let mut changed = play.clone();
        changed.areas = vec!["NW8".into()];
        changed.languages = vec![];
        db.update_service(play_id, &changed).await.unwrap();
        let full = db.full_service(play_id).await.unwrap().unwrap();
        assert_eq!(full.service.uuid, play_uuid);
        assert_eq!(full.areas.iter().map(|a| a.area.as_str()).collect::<Vec<_>>(), ["NW8"]);
        assert!(full.languages.is_empty());

        // A feed's records: upserted by (source, the feed's id).
        let src = db
            .upsert_directory_source(t.id, "Next door", "http://127.0.0.1:9/openreferral")
            .await
            .unwrap();
        assert_eq!(
            db.upsert_directory_source(t.id, "Next door", "http://127.0.0.1:9/openreferral")
                .await
                .unwrap(),
            src
        );
        let tax = db
            .upsert_taxonomy(
                src,
                "tax-1",
                &TaxonomyData {
                    name: "Theirs".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let tterm = db
            .upsert_term(
                src,
                "term-1",
                &TermData {
                    taxonomy_id: tax,
                    code: "x".into(),
                    name: "X".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let their_org = db
            .upsert_dir_organisation(
                src,
                "org-1",
                &OrganisationData {
                    tenant_id: t.id,
                    name: "Theirs".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let loc = db
            .upsert_location(
                src,
                "loc-1",
                &LocationData {
                    tenant_id: t.id,
                    name: "Their hall".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let mut theirs = service(t.id, their_org, "Their service");
        theirs.location_ids = vec![loc];
        theirs.term_ids = vec![tterm];
        theirs.last_modified_ms = Some(1_000);
        let (a, ua) = db.upsert_service(src, "svc-1", &theirs).await.unwrap();
        theirs.name = "Their service, renamed".into();
        theirs.location_ids = vec![];
        let (b, ub) = db.upsert_service(src, "svc-1", &theirs).await.unwrap();
        assert_eq!((a, ua), (b, ub.clone()));
        assert_eq!(
            db.upsert_dir_organisation(
                src,
                "org-1",
                &OrganisationData {
                    tenant_id: t.id,
                    name: "Theirs 2".into(),
                    ..Default::default()
                }
            )
            .await
            .unwrap(),
            their_org
        );
        let full = db.full_service(a).await.unwrap().unwrap();
        assert_eq!(full.service.name, "Their service, renamed");
        assert_eq!(
            (full.service.source_id, full.service.external_id.as_deref()),
            (Some(src), Some("svc-1"))
        );
        assert!(full.locations.is_empty());
        assert_eq!(
            full.terms[0].taxonomy_uuid,
            db.taxonomy(tax).await.unwrap().unwrap().uuid
        );
        let (n, _) = db
            .directory_services_page(
                &ServiceFilter {
                    source_id: Some(src),
                    ..Default::default()
                },
                1,
                10,
            )
            .await
            .unwrap();
        assert_eq!(n, 1);
        let (n, _) = db
            .directory_services_page(
                &ServiceFilter {
                    modified_after_ms: Some(5_000),
                    source_id: Some(src),
                    ..Default::default()
                },
                1,
                10,
            )
            .await
            .unwrap();
        assert_eq!(n, 0);
        let (taxes, _) = db.taxonomies_page(1, 10).await.unwrap();
        assert_eq!(taxes, 2);
        let (terms, _) = db.taxonomy_terms_page(Some(tax), 1, 10).await.unwrap();
        assert_eq!(terms, 1);
        let (sals, rows) = db.service_at_locations_page(Some(t.id), 1, 10).await.unwrap();
        assert_eq!((sals, rows[0].service_id), (1, play_id));
        assert_eq!(
            db.service_at_location_by_uuid(&rows[0].uuid)
                .await
                .unwrap()
                .unwrap()
                .location
                .id,
            hall
        );
    }
}
