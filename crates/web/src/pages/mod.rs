//! Routes, one module per subject. Each handler: parse → ask `crate::access`
//! (policy + audit) → store → render.

use axum::Router;
use axum::routing::{MethodRouter, get, post};
use kindred_domain::dates;
use kindred_store::persons::Person;

use crate::AppState;

pub use feeds::UPLOAD_LIMIT;

mod admin;
mod admin_areas;
mod admin_asq;
mod admin_sharing;
mod assessments;
mod connections;
mod consent;
mod contacts;
mod dashboards;
mod development;
mod directory;
mod directory_admin;
mod directory_sources;
mod early_help;
mod early_identification;
mod episodes;
mod families;
mod feeds;
mod flags;
mod glass;
mod home;
mod notifications;
pub mod openreferral;
mod outcomes;
mod panels;
mod partner_systems;
mod pathway;
mod persons;
mod plan;
mod portal;
mod privacy;
mod profile;
mod referrals;
mod reports;
mod restricted;
mod retention;
mod search;
mod self_referral;
mod tasks;
mod transitions;
mod transparency;

/// The router, remembering every path it was given so that tests (the leak
/// test above all) can check that no route escapes them.
pub struct Routes {
    router: Router<AppState>,
    paths: Vec<&'static str>,
}

impl Routes {
    fn new() -> Self {
        Routes {
            router: Router::new(),
            paths: vec![],
        }
    }

    fn route(mut self, path: &'static str, method_router: MethodRouter<AppState>) -> Self {
        self.paths.push(path);
        self.router = self.router.route(path, method_router);
        self
    }

    fn merge(mut self, other: Routes) -> Self {
        self.paths.extend(other.paths);
        self.router = self.router.merge(other.router);
        self
    }
}

pub fn routes() -> Router<AppState> {
    all_routes().router.fallback(|uri: axum::http::Uri| async move {
        use axum::response::IntoResponse;
        if uri.path().starts_with("/openreferral/") {
            openreferral::unknown_path()
        } else {
            crate::errors::AppError::NotFound.into_response()
        }
    })
}

/// Every path the server answers, in the order they were declared.
pub fn route_paths() -> Vec<&'static str> {
    all_routes().paths
}

fn all_routes() -> Routes {
    Routes::new()
        .route("/", get(home::home))
        .route("/healthz", get(home::healthz))
        .route("/metrics", get(home::metrics))
        .route("/login", get(crate::auth::login_form).post(crate::auth::login))
        .route("/logout", post(crate::auth::logout))
        // The second factor (issue 9): the only pages an MFA-pending session reaches.
        .route("/mfa", get(crate::mfa::show).post(crate::mfa::verify))
        .route("/mfa/enrol", get(crate::mfa::enrol_form).post(crate::mfa::enrol))
        .route("/search", get(search::form).post(search::search))
        .route("/families/new", get(families::new_form).post(families::create))
        .route("/families/{id}", get(families::show))
        .route("/families/{id}/edit", get(families::edit_form).post(families::edit))
        .route(
            "/families/{id}/members/new",
            get(families::new_member_form).post(families::add_member),
        )
        .route("/families/{id}/members/{person_id}/leave", post(families::leave))
        .route("/families/{id}/relationships", post(families::add_relationship))
        .route("/families/{id}/team", post(families::add_team_member))
        .route("/families/{id}/team/{user_id}/end", post(families::end_team_member))
        .route("/families/{id}/lead", post(families::set_lead))
        .route("/families/{id}/involvements", post(families::add_involvement))
        .route("/families/{id}/involvements/{inv}/end", post(families::end_involvement))
        .route("/families/{id}/access-log", get(families::access_log))
        .route("/families/{id}/profile", get(profile::show))
        .route("/families/{id}/contacts", get(contacts::list))
        .route("/families/{id}/assessments", get(assessments::list))
        .route(
            "/families/{id}/assessments/new",
            get(assessments::new_form).post(assessments::create),
        )
        .route("/families/{id}/development", get(development::list))
        .route(
            "/families/{id}/development/asq3",
            get(development::asq3_form).post(development::create_asq3),
        )
        .route(
            "/families/{id}/development/asqse",
            get(development::asqse_form).post(development::create_asqse),
        )
        .route(
            "/families/{id}/development/two-year-review",
            get(development::review_form).post(development::create_review),
        )
        .route("/families/{id}/early-help-assessments", get(early_help::list))
        .route(
            "/families/{id}/early-help-assessments/new",
            get(early_help::new_form).post(early_help::create),
        )
        .route("/families/{id}/early-help-assessments/{aid}", get(early_help::show))
        .route(
            "/families/{id}/early-help-assessments/{aid}/edit",
            get(early_help::edit_form).post(early_help::edit),
        )
        .route(
            "/families/{id}/contacts/new",
            get(contacts::new_form).post(contacts::create),
        )
        .route("/families/{id}/episodes", post(episodes::open))
        .route("/families/{id}/episodes/{episode_id}", get(episodes::show))
        .route("/families/{id}/episodes/{episode_id}/{action}", post(episodes::change))
        .route("/families/{id}/tasks/new", get(tasks::new_form).post(tasks::create))
        .route("/tasks", get(tasks::mine))
        .route("/tasks/team", get(tasks::team))
        .route("/tasks/{id}/done", post(tasks::done))
        .route("/transitions", get(transitions::approaching_18))
        .route("/transitions/tasks", post(transitions::create_tasks))
        .route("/transitions/year-6", get(transitions::year_6))
        .route(
            "/families/{id}/panel",
            get(panels::family_form).post(panels::add_from_family),
        )
        .route("/families/{id}/plan", get(plan::show))
        .route(
            "/families/{id}/plan/goals/new",
            get(plan::new_goal_form).post(plan::create_goal),
        )
        .route(
            "/families/{id}/plan/actions/new",
            get(plan::new_action_form).post(plan::create_action),
        )
        .route("/families/{id}/plan/actions/{action}", post(plan::update_action))
        .route("/families/{id}/plan/review", get(plan::review_form).post(plan::review))
        .route("/families/{id}/plan/versions", get(plan::versions))
        .route("/families/{id}/plan/versions/{v}", get(plan::version))
        .route("/families/{id}/portal", get(portal::invites).post(portal::invite))
        .route("/families/{id}/portal/{invite}/revoke", post(portal::revoke))
        .route("/actions/overdue", get(plan::overdue))
        .route("/referrals", get(referrals::mine).post(referrals::start))
        .route("/referrals/{id}", get(referrals::show))
        .route("/referrals/{id}/edit", get(referrals::edit).post(referrals::save))
        .route("/referrals/{id}/people", post(referrals::add_new))
        .route("/referrals/{id}/people/find", post(referrals::find_person))
        .route("/referrals/{id}/people/known", post(referrals::add_known))
        .route("/referrals/{id}/people/{rp}/remove", post(referrals::remove_person))
        .route("/referrals/{id}/people/{rp}/link", post(referrals::link))
        .route("/referrals/{id}/people/{rp}/create", post(referrals::create_person))
        .route("/referrals/{id}/claim", post(referrals::claim))
        .route("/referrals/{id}/family", post(referrals::attach_family))
        .route("/referrals/{id}/panel", post(panels::add_from_referral))
        .route(
            "/referrals/{id}/decision",
            get(referrals::decision_form).post(referrals::decide),
        )
        .route("/triage", get(referrals::queue))
        .route("/notifications", get(notifications::list))
        .route("/panels", get(panels::list).post(panels::create))
        .route("/panels/{id}", get(panels::show))
        .route("/panels/{id}/attendees", post(panels::add_attendee))
        .route("/panels/{id}/items/{item}", post(panels::decide_item))
        .route("/panels/{id}/actions/{action}/done", post(panels::action_done))
        .route("/persons/{id}", get(persons::show))
        .route("/persons/{id}/edit", get(persons::edit_form).post(persons::edit))
        .route(
            "/persons/{id}/address",
            get(persons::move_form).post(persons::move_address),
        )
        .route("/admin/users", get(admin::users).post(admin::add_user))
        .route("/admin/users/{id}/active", post(admin::set_active))
        .route("/admin/users/{id}/mfa-reset", post(admin::reset_mfa))
        .route(
            "/admin/organisations",
            get(admin::organisations).post(admin::add_organisation),
        )
        .route("/admin/hub-sites", post(admin::add_hub_site))
        // Partner systems, OAuth2 client credentials and the FHIR R4 API (issue 8).
        .route(
            "/admin/partner-systems",
            get(partner_systems::list).post(partner_systems::register),
        )
        .route("/admin/partner-systems/{id}/active", post(partner_systems::set_active))
        .route("/oauth/token", post(crate::api_auth::token))
        .route("/fhir/metadata", get(crate::fhir::metadata))
        .route("/fhir/{type}", get(crate::fhir::search))
        .route("/fhir/{type}/{id}", get(crate::fhir::read))
        .route("/admin/triage", get(admin::triage_rule).post(admin::set_triage_rule))
        .route("/admin/asq-cutoffs", get(admin_asq::show).post(admin_asq::save))
        .route(
            "/admin/assessment-areas",
            get(admin_areas::show).post(admin_areas::save),
        )
        // Break-glass, safeguarding overrides and the privacy officer's review (issue 5).
        .route("/break-glass", get(glass::form).post(glass::break_glass))
        .route(
            "/families/{id}/safeguarding-override",
            get(glass::override_form).post(glass::record_override),
        )
        .route("/privacy/reviews", get(privacy::reviews))
        .route("/privacy/reviews/{id}", get(privacy::review).post(privacy::decide))
        .route("/privacy/sealed", get(privacy::sealed).post(privacy::seal))
        .route("/privacy/sealed/{id}/unseal", post(privacy::unseal))
        .route("/privacy/retention", get(retention::show).post(retention::set_rule))
        .route(
            "/privacy/retention/{id}",
            get(retention::review).post(retention::decide),
        )
        // Issue 5: restricted persons, flags and alert rules.
        .route("/families/{id}/flags", post(flags::raise_on_family))
        .route("/families/{id}/flags/new", get(flags::new_family_flag))
        .route("/families/{id}/flags/{flag}/end", post(flags::end))
        .route("/persons/{id}/flags", post(flags::raise_on_person))
        .route("/persons/{id}/restricted", post(restricted::mark))
        .route("/persons/{id}/restricted/lift", post(restricted::lift))
        .route("/persons/{id}/restricted/permissions", post(restricted::grant))
        .route(
            "/persons/{id}/restricted/permissions/{user}/revoke",
            post(restricted::revoke),
        )
        .route("/admin/alert-rules", get(flags::rules).post(flags::add_rule))
        .route("/admin/alert-rules/{id}/delete", post(flags::delete_rule))
        // Consent and information-sharing agreements (issue 5).
        .route("/families/{id}/consent", get(consent::show).post(consent::record))
        .route("/families/{id}/consent/{consent_id}/withdraw", post(consent::withdraw))
        .route(
            "/admin/sharing-agreements",
            get(admin_sharing::agreements).post(admin_sharing::create_agreement),
        )
        .route("/admin/sharing-agreements/{id}/end", post(admin_sharing::end_agreement))
        .route(
            "/admin/consent-purposes",
            get(admin_sharing::purposes).post(admin_sharing::add_purpose),
        )
        // Transparency (issue 5): who viewed per person, access-log CSVs, the
        // printable access report, the privacy officer's audit search and
        // subject access requests (`/privacy/sar/{person}` also answers
        // `/privacy/sar/{person}.json`: the router has no suffix parameters).
        .route("/persons/{id}/access-log", get(transparency::person_access_log))
        .route("/persons/{id}/access-log.csv", get(transparency::person_access_csv))
        .route("/families/{id}/access-log.csv", get(transparency::family_access_csv))
        .route("/families/{id}/access-report", get(transparency::family_access_report))
        .route("/privacy/audit", get(transparency::audit_search))
        .route("/privacy/audit.csv", get(transparency::audit_csv))
        .route("/privacy/sar", get(transparency::sar_form).post(transparency::sar_find))
        .route("/privacy/sar/{person}", get(transparency::sar_bundle))
        .route(
            "/privacy/redaction-rules",
            get(transparency::redaction_rules).post(transparency::save_redaction_rules),
        )
        // The health and agency feeds, match review and reach (issue 6).
        .route(
            "/imports",
            get(feeds::imports)
                .post(feeds::upload)
                .layer(axum::extract::DefaultBodyLimit::max(feeds::UPLOAD_LIMIT)),
        )
        .route("/imports/{id}", get(feeds::run))
        .route("/imports/{id}/progress", get(feeds::progress))
        .route("/imports/{id}/rejects.csv", get(feeds::rejects_csv))
        .route("/matches", get(feeds::queue))
        .route("/matches/{id}", get(feeds::record).post(feeds::decide))
        .route("/matches/{id}/undo", post(feeds::undo))
        .route("/reach", get(feeds::reach))
        // The universal pathway (issue 7).
        .route("/pathway", get(pathway::list))
        .route("/admin/pathway", get(pathway::admin).post(pathway::set_model))
        // KPI dashboards and the partnership maturity matrix (issue 7).
        .route("/dashboards", get(dashboards::dashboards))
        .route("/dashboards/{kpi}", get(dashboards::dashboard))
        .route("/maturity", get(dashboards::maturity).post(dashboards::assess))
        .route("/admin/wards", get(dashboards::wards).post(dashboards::set_wards))
        // The outcomes framework (issue 7, F15).
        .route("/families/{id}/outcomes", get(outcomes::show))
        .route("/families/{id}/outcomes/needs", post(outcomes::add))
        .route(
            "/families/{id}/outcomes/needs/{need}",
            get(outcomes::edit_form).post(outcomes::edit),
        )
        .route(
            "/families/{id}/outcomes/needs/{need}/result",
            post(outcomes::record_result),
        )
        .route(
            "/families/{id}/episodes/{episode_id}/sustained",
            get(outcomes::sustained_form).post(outcomes::record_sustained),
        )
        .route("/admin/outcomes", get(outcomes::admin).post(outcomes::save_framework))
        // Early identification (issue 7, F20).
        .route("/early-identification", get(early_identification::list))
        .route("/early-identification/decisions", post(early_identification::decide))
        // The report builder (issue 7, F16).
        .route("/reports", get(reports::list))
        .route("/reports/new", get(reports::new_form).post(reports::build))
        .route("/reports/{id}", get(reports::show))
        .route("/reports/{id}/share", post(reports::share))
        .route("/reports/{id}/delete", post(reports::delete))
        .route("/reports/{id}/export.csv", get(reports::export))
        // The service directory and connecting a family to a service (issue 8, F17).
        .route("/admin/directory", get(directory_admin::list))
        .route(
            "/admin/directory/services/new",
            get(directory_admin::new_form).post(directory_admin::create),
        )
        .route(
            "/admin/directory/services/{id}/edit",
            get(directory_admin::edit_form).post(directory_admin::edit),
        )
        .route(
            "/admin/directory/organisations",
            post(directory_admin::add_organisation),
        )
        .route("/admin/directory/locations", post(directory_admin::add_location))
        .route("/admin/directory/taxonomy", get(directory_admin::taxonomy))
        .route(
            "/families/{id}/connections/new",
            get(connections::new_form).post(connections::create),
        )
        .route("/connections", get(connections::list))
        .route("/connections/{id}", get(connections::show))
        .route("/connections/{id}/accept", post(connections::accept))
        .route("/connections/{id}/decline", post(connections::decline))
        .route("/connections/{id}/complete", post(connections::complete))
        .merge(self_referral_routes())
        .merge(directory_routes())
        .merge(api_routes())
        .merge(openreferral_routes())
}

/// The public service directory (issue 8, F17): no account.
fn directory_routes() -> Routes {
    Routes::new()
        .route("/directory", get(directory::search))
        .route("/directory/services/{uuid}", get(directory::service))
        .route("/directory/family-hub", get(directory::family_hub))
        .route("/directory/start-for-life", get(directory::start_for_life))
}

/// Kindred's own JSON API (issue 8), with its OpenAPI document.
fn api_routes() -> Routes {
    crate::api::routes()
        .into_iter()
        .fold(Routes::new(), |r, (path, method_router)| r.route(path, method_router))
}

/// The Open Referral UK 3.0 API (issue 8): public, JSON.
fn openreferral_routes() -> Routes {
    use openreferral as o;
    Routes::new()
        .route("/openreferral", get(o::info))
        .route("/openreferral/", get(o::info))
        .route("/openreferral/services", get(o::services))
        .route("/openreferral/services/{id}", get(o::service))
        .route("/openreferral/service_at_locations", get(o::service_at_locations))
        .route("/openreferral/service_at_locations/{id}", get(o::service_at_location))
        .route("/openreferral/taxonomies", get(o::taxonomies))
        .route("/openreferral/taxonomies/{id}", get(o::taxonomy_by_id))
        .route("/openreferral/taxonomy_terms", get(o::taxonomy_terms))
        .route("/openreferral/taxonomy_terms/{id}", get(o::taxonomy_term))
        .route(
            "/admin/directory/sources",
            get(directory_sources::list).post(directory_sources::add),
        )
        .route("/admin/directory/sources/{id}/pull", post(directory_sources::pull))
}

/// The public self-referral: no account, its own draft and CSRF token.
fn self_referral_routes() -> Routes {
    use self_referral as s;
    Routes::new()
        .route("/portal", get(portal::home))
        .route("/portal/sign-in", get(portal::sign_in_form).post(portal::sign_in))
        .route("/portal/email", post(portal::email_code))
        .route("/portal/sign-out", post(portal::sign_out))
        .route("/portal/access", get(portal::access))
        .route("/portal/actions/{id}", post(portal::update_action))
        .route("/self-referral", get(s::start_page))
        .route("/self-referral/expired", get(s::expired_page))
        .route("/self-referral/start", post(s::start))
        .route("/self-referral/name", get(s::name_form).post(s::name))
        .route("/self-referral/date-of-birth", get(s::dob_form).post(s::dob))
        .route("/self-referral/address", get(s::address_form).post(s::address))
        .route("/self-referral/council", get(s::council_form).post(s::council))
        .route("/self-referral/contact", get(s::contact_form).post(s::contact))
        .route("/self-referral/people", get(s::people_form).post(s::people))
        .route("/self-referral/people/new", get(s::new_person_form).post(s::add_person))
        .route(
            "/self-referral/people/{n}",
            get(s::edit_person_form).post(s::edit_person),
        )
        .route(
            "/self-referral/people/{n}/remove",
            get(s::remove_person_form).post(s::remove_person),
        )
        .route("/self-referral/help", get(s::help_form).post(s::help))
        .route("/self-referral/your-words", get(s::words_form).post(s::words))
        .route("/self-referral/consent", get(s::consent_form).post(s::consent))
        .route("/self-referral/check", get(s::check_form))
        .route("/self-referral/send", post(s::send))
        .route("/self-referral/confirmation", get(s::confirmation))
}

/// "12 March 1994 (32)", or "Due 20 January 2027" for an unborn baby.
pub fn born(p: &Person, today: time::Date) -> String {
    match (p.date_of_birth, p.expected_delivery) {
        (Some(d), _) => format!("{} (age {})", dates::long(d), dates::age_in_years(d, today)),
        (None, Some(e)) => format!("Due {}", dates::long(e)),
        _ => "Not known".into(),
    }
}

/// A count with its thousands grouped: 1000 → "1,000".
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// An instant stored in milliseconds, shown as a date and time in UTC.
pub fn when(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("{} at {:02}:{:02}", dates::long(t.date()), t.hour(), t.minute())
}

pub fn opt_date(d: Option<time::Date>) -> String {
    d.map(dates::long).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_grouped() {
        for (n, s) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (1234567, "1,234,567"),
            (-45000, "-45,000"),
        ] {
            assert_eq!(super::thousands(n), s);
        }
    }
}
