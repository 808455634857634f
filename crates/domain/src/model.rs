//! The vocabulary of the whole-family record, stored as short text codes.

/// Declares a closed set of codes with the label people see. `parse` accepts
/// only the codes, so a value read from a form or the database is always known.
macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $code:literal : $label:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
            pub fn parse(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}
pub(crate) use code_enum;

code_enum!(
    /// The kinds of partner organisation in a family hub network.
    OrgKind {
        EarlyHelp = "early_help": "Early help",
        ChildrensSocialCare = "childrens_social_care": "Children's social care",
        HealthVisiting = "health_visiting": "Health visiting",
        Midwifery = "midwifery": "Midwifery",
        School = "school": "School",
        SchoolNursing = "school_nursing": "School nursing",
        GpPractice = "gp_practice": "GP practice",
        Camhs = "camhs": "CAMHS",
        AdultMentalHealth = "adult_mental_health": "Adult mental health",
        AdultSocialCare = "adult_social_care": "Adult social care",
        Housing = "housing": "Housing",
        Police = "police": "Police",
        Vcs = "vcs": "Voluntary and community sector",
        FamilyHub = "family_hub": "Family hub",
    }
);

code_enum!(
    Profession {
        HealthVisitor = "health_visitor": "Health visitor",
        Midwife = "midwife": "Midwife",
        SchoolNurse = "school_nurse": "School nurse",
        SocialWorker = "social_worker": "Social worker",
        EarlyHelpWorker = "early_help_worker": "Early help worker",
        FamilyNavigator = "family_navigator": "Family navigator",
        Teacher = "teacher": "Teacher",
        Senco = "senco": "SENCO",
        GpStaff = "gp_staff": "GP practice staff",
        CamhsClinician = "camhs_clinician": "CAMHS clinician",
        MentalHealthPractitioner = "mental_health_practitioner": "Adult mental health practitioner",
        AdultSocialCareWorker = "adult_social_care_worker": "Adult social care worker",
        HousingOfficer = "housing_officer": "Housing officer",
        PoliceOfficer = "police_officer": "Police officer",
        VcsWorker = "vcs_worker": "Voluntary sector worker",
        Analyst = "analyst": "Analyst",
        Administrator = "administrator": "Administrator",
    }
);

code_enum!(
    /// What a user may do beyond their profession.
    Role {
        Practitioner = "practitioner": "Practitioner",
        Triage = "triage": "Triage officer",
        Manager = "manager": "Team manager",
        Admin = "admin": "Administrator",
        PrivacyOfficer = "privacy_officer": "Privacy officer",
        DataOfficer = "data_officer": "Data and identity officer",
        Analyst = "analyst": "Analyst (aggregate figures only)",
    }
);

code_enum!(
    /// Facts every partner with any access to the person must see (F13).
    FlagKind {
        ChildProtectionEnquiry = "child_protection_enquiry": "Child protection enquiry (section 47)",
        ChildProtectionPlan = "child_protection_plan": "Child protection plan",
        ChildInNeed = "child_in_need": "Child in need",
        LookedAfter = "looked_after": "Looked-after child",
        Ehcp = "ehcp": "Education, health and care plan (EHCP)",
        YoungCarer = "young_carer": "Young carer",
        SafeguardingConcern = "safeguarding_concern": "Safeguarding concern",
    }
);

code_enum!(
    MemberRole {
        Parent = "parent": "Parent",
        Carer = "carer": "Carer",
        Child = "child": "Child",
        Unborn = "unborn": "Unborn baby",
        Sibling = "sibling": "Sibling",
        Grandparent = "grandparent": "Grandparent",
        Other = "other": "Other",
    }
);

code_enum!(
    /// A directed relationship: `from` is the `kind` of `to` (A is parent of B).
    RelationshipKind {
        ParentOf = "parent_of": "Parent of",
        StepParentOf = "step_parent_of": "Step-parent of",
        CarerOf = "carer_of": "Carer of",
        GrandparentOf = "grandparent_of": "Grandparent of",
        SiblingOf = "sibling_of": "Sibling of",
        HalfSiblingOf = "half_sibling_of": "Half-sibling of",
        PartnerOf = "partner_of": "Partner of",
        ExPartnerOf = "ex_partner_of": "Former partner of",
    }
);

code_enum!(
    Sex {
        Female = "female": "Female",
        Male = "male": "Male",
        Unknown = "unknown": "Not known",
    }
);

/// A Unique Pupil Number: 13 characters, a check letter then 12 digits
/// (the last may be a letter for temporary UPNs).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Upn(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpnError {
    #[error("Enter a UPN of 13 characters, like A123456789012")]
    Shape,
    #[error("Enter a real UPN: the check letter does not match")]
    CheckLetter,
}

impl Upn {
    /// The DfE check letter: sum of characters 2–13 weighted 2..=13, modulo 23,
    /// mapped to the letters `ABCDEFGHJKLMNPQRTUVWXYZ`.
    pub fn parse(input: &str) -> Result<Self, UpnError> {
        let s: String = input.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        if b.len() != 13
            || !b[0].is_ascii_alphabetic()
            || !b[1..12].iter().all(u8::is_ascii_digit)
            || !b[12].is_ascii_alphanumeric()
        {
            return Err(UpnError::Shape);
        }
        if Upn::check_letter(&s[1..]) != Some(b[0] as char) {
            return Err(UpnError::CheckLetter);
        }
        Ok(Upn(s))
    }

    /// The check letter for the last 12 characters, if they are well formed.
    pub fn check_letter(rest: &str) -> Option<char> {
        const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRTUVWXYZ";
        let mut sum = 0u32;
        for (i, c) in rest.bytes().enumerate() {
            let v = match c {
                b'0'..=b'9' => (c - b'0') as u32,
                // Temporary UPNs end in a letter, valued by its place in LETTERS.
                _ => LETTERS.iter().position(|l| *l == c)? as u32,
            };
            sum += v * (i as u32 + 2);
        }
        Some(LETTERS[(sum % 23) as usize] as char)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Upn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Upn(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        assert_eq!(OrgKind::ALL.len(), 14);
        for k in OrgKind::ALL {
            assert_eq!(OrgKind::parse(k.code()), Some(*k));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn upn_check_letter() {
        let rest = "820200101001";
        let letter = Upn::check_letter(rest).unwrap();
        let good = format!("{letter}{rest}");
        assert!(Upn::parse(&good).is_ok());
        let bad_letter = if letter == 'A' { 'B' } else { 'A' };
        assert_eq!(Upn::parse(&format!("{bad_letter}{rest}")), Err(UpnError::CheckLetter));
        assert_eq!(Upn::parse("A12345"), Err(UpnError::Shape));
    }
}

code_enum!(
    /// How a contact with the family took place.
    ContactMode {
        HomeVisit = "home_visit": "Home visit",
        Hub = "hub": "At the family hub",
        School = "school": "At school",
        Virtual = "virtual": "Video call",
        Phone = "phone": "Phone call",
        Outreach = "outreach": "Outreach",
    }
);

code_enum!(
    /// Who may read what a contact note says. Everyone with access to the
    /// family sees that the contact happened; only these read its text.
    NoteVisibility {
        Team = "team": "Everyone working with the family",
        Profession = "profession": "The author's profession only",
        Organisation = "organisation": "The author's organisation only",
        Sensitive = "sensitive": "Sensitive: the author and named people only",
    }
);
