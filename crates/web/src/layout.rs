//! What every page's frame needs: title, who is signed in, the CSRF token,
//! and which service the header names (the record, or the public front door).

use kindred_domain::model::Role;

use crate::auth::CurrentUser;

pub struct Layout {
    pub title: String,
    pub user_name: Option<String>,
    pub organisation: String,
    pub csrf: String,
    pub is_admin: bool,
    pub has_case_role: bool,
    pub is_triage: bool,
    pub runs_panel: bool,
    /// Practitioners and managers: the transition lists.
    pub works_cases: bool,
    /// The service named in the header, and where its name links to.
    pub service: &'static str,
    pub home: &'static str,
    /// A privacy officer: the review queue and sealed families.
    pub is_privacy_officer: bool,
    /// A data officer: imports, match review and reach.
    pub is_data_officer: bool,
    /// Managers, analysts and data officers (`access::aggregates`): the
    /// hubs' reach, the dashboards and the maturity matrix.
    pub sees_reach: bool,
    /// Triage officers, managers, and early help and family hub
    /// practitioners: early identification (F20; the page itself also asks
    /// that their organisation be party to an agreement for it).
    pub early_identification: bool,
    /// Managers, analysts and data officers: the report builder (issue 7).
    pub sees_reports: bool,
    /// An analyst: aggregate figures only.
    pub is_analyst: bool,
    /// Administrators and family hub or early help managers: the service
    /// directory's management (`access::manage_directory`).
    pub manages_directory: bool,
    /// The break-glass this page was opened through: (until HH:MM, the reason).
    pub emergency: Option<(String, String)>,
}

impl Layout {
    pub fn new(title: impl Into<String>, cu: &CurrentUser) -> Layout {
        Layout {
            title: title.into(),
            user_name: Some(cu.user.display_name.clone()),
            organisation: cu.organisation_name.clone(),
            csrf: cu.csrf.clone(),
            is_admin: cu.user.has(Role::Admin),
            has_case_role: cu.user.roles.iter().any(|r| {
                !matches!(
                    r,
                    Role::Admin | Role::PrivacyOfficer | Role::DataOfficer | Role::Analyst
                )
            }),
            is_triage: cu.user.has(Role::Triage),
            runs_panel: cu.user.has(Role::Triage) || cu.user.has(Role::Manager),
            works_cases: cu.user.has(Role::Practitioner) || cu.user.has(Role::Manager),
            service: RECORD,
            home: "/",
            is_privacy_officer: cu.user.has(Role::PrivacyOfficer),
            is_data_officer: cu.user.has(Role::DataOfficer),
            sees_reach: kindred_domain::access::aggregates(&cu.user.subject(), cu.user.tenant_id),
            early_identification: kindred_domain::access::early_identification_role(
                &cu.user.subject(),
                cu.organisation_kind,
            ),
            sees_reports: kindred_domain::access::aggregates(&cu.user.subject(), cu.user.tenant_id),
            is_analyst: cu.user.has(Role::Analyst),
            manages_directory: kindred_domain::access::manage_directory(&cu.user.subject(), cu.organisation_kind),
            emergency: cu.emergency.get(),
        }
    }

    pub fn anonymous(title: impl Into<String>) -> Layout {
        Layout {
            title: title.into(),
            user_name: None,
            organisation: String::new(),
            csrf: String::new(),
            is_admin: false,
            has_case_role: false,
            is_triage: false,
            runs_panel: false,
            works_cases: false,
            service: RECORD,
            home: "/",
            is_privacy_officer: false,
            is_data_officer: false,
            sees_reach: false,
            early_identification: false,
            sees_reports: false,
            is_analyst: false,
            manages_directory: false,
            emergency: None,
        }
    }

    /// A session that still owes its second factor: the user's name and a
    /// sign-out button, and no navigation to anything else.
    pub fn pending(title: impl Into<String>, p: &crate::auth::PendingMfa) -> Layout {
        Layout {
            user_name: Some(p.user.display_name.clone()),
            organisation: p.organisation_name.clone(),
            csrf: p.csrf.clone(),
            ..Layout::anonymous(title)
        }
    }

    /// The public pages a family uses without an account: never a signed-in frame.
    pub fn public(title: impl Into<String>) -> Layout {
        Layout {
            service: "Ask your family hub for help",
            home: "/self-referral",
            ..Layout::anonymous(title)
        }
    }

    /// The public service directory: never a signed-in frame.
    pub fn directory(title: impl Into<String>) -> Layout {
        Layout {
            service: "Find family services",
            home: "/directory",
            ..Layout::anonymous(title)
        }
    }
}

const RECORD: &str = "Family hub record";

/// The break-glass a request was let in through, noted by `web::access` when
/// the policy's basis is break-glass and read by [`Layout::new`], so that every
/// family page shows the emergency banner without each handler asking.
#[derive(Clone, Default)]
pub struct Emergency(std::sync::Arc<std::sync::Mutex<Option<(String, String)>>>);

impl Emergency {
    pub fn set(&self, until: String, reason: String) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some((until, reason));
        }
    }

    pub fn get(&self) -> Option<(String, String)> {
        self.0.lock().ok().and_then(|s| s.clone())
    }
}

/// The time of day of an instant in Europe/London, as `HH:MM`; with the date
/// too (`on 3 March 2026 at 14:05`) when `with_date`.
pub fn london_time(ms: i64, with_date: bool) -> String {
    let zoned = jiff::Timestamp::from_millisecond(ms)
        .ok()
        .and_then(|t| jiff::tz::TimeZone::get("Europe/London").ok().map(|tz| t.to_zoned(tz)));
    match zoned {
        Some(z) if with_date => format!(
            "{} {} {} at {:02}:{:02}",
            z.day(),
            MONTHS[(z.month() as usize).saturating_sub(1) % 12],
            z.year(),
            z.hour(),
            z.minute()
        ),
        Some(z) => format!("{:02}:{:02}", z.hour(), z.minute()),
        None => String::new(),
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
