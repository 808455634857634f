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
}

impl Layout {
    pub fn new(title: impl Into<String>, cu: &CurrentUser) -> Layout {
        Layout {
            title: title.into(),
            user_name: Some(cu.user.display_name.clone()),
            organisation: cu.organisation_name.clone(),
            csrf: cu.csrf.clone(),
            is_admin: cu.user.has(Role::Admin),
            has_case_role: cu.user.roles.iter().any(|r| *r != Role::Admin),
            is_triage: cu.user.has(Role::Triage),
            runs_panel: cu.user.has(Role::Triage) || cu.user.has(Role::Manager),
            works_cases: cu.user.has(Role::Practitioner) || cu.user.has(Role::Manager),
            service: RECORD,
            home: "/",
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
}

const RECORD: &str = "Family hub record";
