//! Note visibility on every route, as a property: whoever writes a contact
//! note and whatever visibility they choose, each user sees its text on the
//! contacts page exactly when the policy (`access::read_note`) says so, and
//! on no other page — the family page, the 360° profile, the plan, the access
//! log, a person's page, search, the home page, tasks, or the family portal.

use kindred_domain::access::{self, FamilyAction, NoteFacts};
use kindred_domain::model::{ContactMode, NoteVisibility};
use kindred_store::contacts::NewContact;
use proptest::prelude::*;

use crate::{TestApp, spawn_app};

/// Users who may write about the Khan family (lead, a colleague, the school).
const AUTHORS: [&str; 3] = ["lead@west.test", "colleague@west.test", "teacher@west.test"];
/// Everyone who reads: with and without access, across professions,
/// organisations and tenants.
const READERS: [&str; 8] = [
    "lead@west.test",
    "colleague@west.test",
    "teacher@west.test",
    "manager@west.test",
    "vcs@west.test",
    "sw@west.test",
    "triage@west.test",
    "stranger@east.test",
];

struct World {
    app: TestApp,
    /// (email, signed-in client, csrf token)
    readers: Vec<(&'static str, reqwest::Client, String)>,
    /// A family member signed in to the portal.
    portal: reqwest::Client,
    child: i64,
}

async fn world() -> World {
    let app = spawn_app().await;
    let khan = app.world.khan_family;
    let teacher = app.db.user_by_email("teacher@west.test").await.unwrap().unwrap();
    app.db
        .add_involvement(khan, teacher.organisation_id, "Education", kindred_store::today())
        .await
        .unwrap();
    let mut readers = vec![];
    for email in READERS {
        let (c, t) = app.sign_in(email).await;
        readers.push((email, c, t));
    }
    // Aisha is invited to the portal and signs in.
    let (lead, t) = (&readers[0].1, readers[0].2.clone());
    let mum = app.db.members(khan).await.unwrap()[0].person.id.to_string();
    let page = lead
        .post(app.url(&format!("/families/{khan}/portal")))
        .form(&[("csrf", t.as_str()), ("person", mum.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (portal, _) = crate::plan::portal_sign_in(&app, &crate::plan::shown_code(&page)).await;
    let child = app.world.khan_child;
    World {
        app,
        readers,
        portal,
        child,
    }
}

async fn body(c: &reqwest::Client, app: &TestApp, path: &str) -> String {
    c.get(app.url(path)).send().await.unwrap().text().await.unwrap()
}

#[test]
fn note_text_shows_only_where_and_to_whom_the_policy_allows() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let w = rt.block_on(world());
    let khan = w.app.world.khan_family;
    let n = std::sync::atomic::AtomicU32::new(0);
    let config = ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(
        author in 0usize..AUTHORS.len(),
        visibility in prop::sample::select(NoteVisibility::ALL.to_vec()),
        named in prop::collection::vec(0usize..READERS.len(), 0..3),
    )| {
        let n = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let text = format!("Private note {n} zq{}", 1000 + n);
        rt.block_on(async {
            let db = &w.app.db;
            let author = db.user_by_email(AUTHORS[author]).await.unwrap().unwrap();
            let mut readers = vec![];
            for i in &named {
                readers.push(db.user_by_email(READERS[*i]).await.unwrap().unwrap().id);
            }
            if visibility != NoteVisibility::Sensitive {
                readers.clear();
            }
            db.add_contact(&NewContact {
                tenant_id: author.tenant_id,
                family_id: khan,
                organisation_id: author.organisation_id,
                author_user_id: author.id,
                occurred_on: kindred_store::today(),
                mode: ContactMode::HomeVisit.code(),
                visibility: visibility.code(),
                body: text.clone(),
                people: vec![w.child],
                readers: readers.clone(),
            })
            .await
            .unwrap();
            let note = NoteFacts {
                author_user_id: author.id,
                author_profession: author.profession,
                author_organisation_id: author.organisation_id,
                visibility,
                named_user_ids: readers,
            };
            let facts = db.family_facts(khan).await.unwrap().unwrap();
            let sharing = db.sharing_facts(khan).await.unwrap().unwrap();
            let at = kindred_domain::sharing::At { today: kindred_store::today(), now_ms: kindred_store::now_ms() };
            for (email, c, token) in &w.readers {
                let subject = db.user_by_email(email).await.unwrap().unwrap().subject();
                let decision = access::family(&subject, &facts, FamilyAction::View);
                let expected = access::read_note(&subject, decision, &note, &sharing, at);
                let contacts = body(c, &w.app, &format!("/families/{khan}/contacts")).await;
                assert_eq!(contacts.contains(&text), expected, "{email} on the contacts page ({visibility:?})");
                for path in [
                    format!("/families/{khan}"),
                    format!("/families/{khan}/profile"),
                    format!("/families/{khan}/plan"),
                    format!("/families/{khan}/access-log"),
                    format!("/persons/{}", w.child),
                    "/".to_string(),
                    "/tasks".to_string(),
                ] {
                    assert!(!body(c, &w.app, &path).await.contains(&text), "{email} reads the note on {path}");
                }
                let search = c
                    .post(w.app.url("/search"))
                    .form(&[("csrf", token.as_str()), ("name", "Khan")])
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                assert!(!search.contains(&text), "{email} reads the note in search results");
            }
            for path in ["/portal", "/portal/access"] {
                assert!(!body(&w.portal, &w.app, path).await.contains(&text), "the family reads it on {path}");
            }
        });
    });
}
