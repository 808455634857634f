//! A subject access request (SAR) bundle: everything held about one person,
//! with third parties' details redacted by the tenant's rules.
//!
//! The store gathers a [`Source`] (unredacted, with what is needed to decide:
//! who each person is, which organisation recorded each note, its
//! visibility); [`bundle`] applies the [`Rules`] and returns the [`Bundle`]
//! that is shown as HTML and serialised as JSON. Everything here is pure.
//!
//! Name redaction works on whole words, case-insensitively: every word of a
//! third party's given, family, preferred or previous names is replaced in
//! free text, except a word that is also one of the subject's own names
//! (siblings share a surname; the subject's own name is theirs to see).
//! Their NHS numbers (with or without spaces), dates of birth (ISO and long
//! form) and address lines and postcodes are replaced too.

use serde::Serialize;

/// What replaces a third party's details.
pub const REDACTED: &str = "[redacted: third party]";

/// The redaction rules a tenant may turn on and off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    OtherPeople,
    StaffNames,
    SensitiveNotes,
    OtherAgenciesNotes,
}

impl Rule {
    pub const ALL: [Rule; 4] = [
        Rule::OtherPeople,
        Rule::StaffNames,
        Rule::SensitiveNotes,
        Rule::OtherAgenciesNotes,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Rule::OtherPeople => "other_people",
            Rule::StaffNames => "staff_names",
            Rule::SensitiveNotes => "sensitive_notes",
            Rule::OtherAgenciesNotes => "other_agencies_notes",
        }
    }

    pub fn parse(code: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Rule::OtherPeople => "Redact other people",
            Rule::StaffNames => "Replace staff names with their role",
            Rule::SensitiveNotes => "Withhold sensitive notes",
            Rule::OtherAgenciesNotes => "Withhold other agencies' notes",
        }
    }

    pub fn hint(self) -> &'static str {
        match self {
            Rule::OtherPeople => {
                "Names, dates of birth, addresses and NHS numbers of anyone but the person asking are \
                 replaced with \"[redacted: third party]\", including inside notes."
            }
            Rule::StaffNames => "Staff are shown by their role and organisation instead of their name.",
            Rule::SensitiveNotes => "Notes recorded as sensitive are left out, with a line saying a note was withheld.",
            Rule::OtherAgenciesNotes => {
                "Notes recorded by organisations other than yours are left out, with a line saying so \
                 (ask those organisations to disclose their own notes)."
            }
        }
    }

    pub fn default_enabled(self) -> bool {
        matches!(self, Rule::OtherPeople | Rule::SensitiveNotes)
    }
}

/// Which rules are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    pub other_people: bool,
    pub staff_names: bool,
    pub sensitive_notes: bool,
    pub other_agencies_notes: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            other_people: Rule::OtherPeople.default_enabled(),
            staff_names: Rule::StaffNames.default_enabled(),
            sensitive_notes: Rule::SensitiveNotes.default_enabled(),
            other_agencies_notes: Rule::OtherAgenciesNotes.default_enabled(),
        }
    }
}

impl Rules {
    /// The defaults, with a tenant's stored choices laid over them (unknown codes ignored).
    pub fn from_stored(stored: &[(String, bool)]) -> Rules {
        let mut r = Rules::default();
        for (code, on) in stored {
            if let Some(rule) = Rule::parse(code) {
                r.set(rule, *on);
            }
        }
        r
    }

    pub fn get(&self, rule: Rule) -> bool {
        match rule {
            Rule::OtherPeople => self.other_people,
            Rule::StaffNames => self.staff_names,
            Rule::SensitiveNotes => self.sensitive_notes,
            Rule::OtherAgenciesNotes => self.other_agencies_notes,
        }
    }

    pub fn set(&mut self, rule: Rule, on: bool) {
        match rule {
            Rule::OtherPeople => self.other_people = on,
            Rule::StaffNames => self.staff_names = on,
            Rule::SensitiveNotes => self.sensitive_notes = on,
            Rule::OtherAgenciesNotes => self.other_agencies_notes = on,
        }
    }
}

// ---------- the input: what the store gathers ----------

/// Someone other than the subject whose details appear in the records.
/// `key` is their person id, or a negative number for someone described on
/// a referral but not linked to a record.
#[derive(Debug, Clone, Default)]
pub struct ThirdParty {
    pub key: i64,
    /// Full names as recorded: current, preferred and previous.
    pub names: Vec<String>,
    /// ISO dates.
    pub dates_of_birth: Vec<String>,
    /// Ten digits.
    pub nhs_numbers: Vec<String>,
    /// Address lines and postcodes.
    pub address_parts: Vec<String>,
}

impl ThirdParty {
    fn display_name(&self) -> String {
        self.names.first().cloned().unwrap_or_else(|| "Someone".into())
    }
}

/// A member of staff as recorded.
#[derive(Debug, Clone, Default)]
pub struct Staff {
    pub name: String,
    pub role: String,
    pub organisation: String,
}

#[derive(Debug, Clone, Default)]
pub struct SourceRelationship {
    /// "Parent of", as the relationship kind's label.
    pub kind: String,
    /// Whether the subject is the `from` side ("the subject is parent of …").
    pub subject_is_from: bool,
    pub other: i64,
}

#[derive(Debug, Clone, Default)]
pub struct SourceConsent {
    pub purpose: String,
    pub scope: String,
    pub given_on: String,
    pub withdrawn_on: String,
    pub method: String,
    pub evidence: String,
    /// Who gave it: the subject, someone else, or not recorded.
    pub given_by: Option<i64>,
    pub competence_judgement: String,
    pub recorded_by: Option<Staff>,
}

#[derive(Debug, Clone, Default)]
pub struct SourceReferral {
    pub reference: String,
    pub received_on: String,
    pub status: String,
    /// The subject's role on the referral.
    pub named_as: String,
    pub referred_by: String,
    pub summary: String,
    pub needs: Vec<String>,
    pub outcome: String,
    pub rationale: String,
    /// Everyone else the referral names (third-party keys).
    pub others: Vec<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct SourceContact {
    pub occurred_on: String,
    pub mode: String,
    pub visibility: String,
    pub organisation_id: i64,
    pub organisation: String,
    pub author: Staff,
    /// Person ids present (the subject among them).
    pub present: Vec<i64>,
    pub body: String,
}

/// An assessment, early help assessment or development record.
#[derive(Debug, Clone, Default)]
pub struct SourceDocument {
    pub kind: String,
    pub family: String,
    /// The person it is about, when it is about one person.
    pub about: Option<i64>,
    pub date: String,
    pub author: Option<Staff>,
    /// (label, text)
    pub sections: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub enum Owner {
    Staff(Staff),
    Organisation(String),
    Person(i64),
    Nobody,
}

#[derive(Debug, Clone)]
pub struct SourceAction {
    pub description: String,
    pub owner: Owner,
    pub due_on: String,
    pub status: String,
}

#[derive(Debug, Clone, Default)]
pub struct SourceGoal {
    pub family: String,
    pub words: String,
    pub status: String,
    pub actions: Vec<SourceAction>,
}

#[derive(Debug, Clone, Default)]
pub struct SourceFlag {
    pub kind: String,
    pub description: String,
    pub raised_on: String,
    pub ended_on: String,
    pub raised_by: Option<Staff>,
}

#[derive(Debug, Clone, Default)]
pub struct SourceEpisode {
    pub family: String,
    pub level: String,
    pub status: String,
    pub opened_on: String,
    pub closed_on: String,
    pub close_reason: String,
    pub lead: Option<Staff>,
}

#[derive(Debug, Clone, Default)]
pub struct SourceAccess {
    pub when: String,
    pub who: Option<Staff>,
    pub action: String,
    pub record: String,
    pub why: String,
    pub route: String,
}

/// Everything held about one person, unredacted.
#[derive(Debug, Clone, Default)]
pub struct Source {
    pub generated_at: String,
    pub tenant: String,
    pub answering_organisation_id: i64,
    pub answering_organisation: String,
    pub subject_id: i64,
    pub identity: Identity,
    pub addresses: Vec<AddressEntry>,
    pub families: Vec<Membership>,
    pub third_parties: Vec<ThirdParty>,
    pub relationships: Vec<SourceRelationship>,
    pub consents: Vec<SourceConsent>,
    pub referrals: Vec<SourceReferral>,
    pub contacts: Vec<SourceContact>,
    pub assessments: Vec<SourceDocument>,
    pub early_help_assessments: Vec<SourceDocument>,
    pub development: Vec<SourceDocument>,
    pub plan_goals: Vec<SourceGoal>,
    pub flags: Vec<SourceFlag>,
    pub episodes: Vec<SourceEpisode>,
    pub access_log: Vec<SourceAccess>,
}

// ---------- the output: the bundle ----------

#[derive(Debug, Clone, Default, Serialize)]
pub struct Identity {
    pub given_name: String,
    pub family_name: String,
    pub preferred_name: String,
    /// (name, until)
    pub previous_names: Vec<PreviousName>,
    pub date_of_birth: String,
    pub expected_delivery: String,
    pub sex: String,
    pub nhs_number: String,
    pub upn: String,
    pub language: String,
    pub interpreter_needed: bool,
    pub send: bool,
    pub phone: String,
    pub email: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PreviousName {
    pub name: String,
    pub until: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AddressEntry {
    pub address: String,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Membership {
    pub family_id: i64,
    pub family: String,
    pub role: String,
    pub joined_on: String,
    pub left_on: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleState {
    pub rule: &'static str,
    pub label: &'static str,
    pub enabled: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RelationshipEntry {
    pub description: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConsentEntry {
    pub purpose: String,
    pub scope: String,
    pub given_on: String,
    pub withdrawn_on: String,
    pub method: String,
    pub evidence: String,
    pub given_by: String,
    pub competence_judgement: String,
    pub recorded_by: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReferralEntry {
    pub reference: String,
    pub received_on: String,
    pub status: String,
    pub named_as: String,
    pub referred_by: String,
    pub summary: String,
    pub needs: Vec<String>,
    pub outcome: String,
    pub rationale: String,
    pub others_named: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContactEntry {
    pub occurred_on: String,
    pub mode: String,
    pub organisation: String,
    pub recorded_by: String,
    pub present: Vec<String>,
    /// The note's text, or empty when withheld.
    pub note: String,
    /// Why the note was withheld, or empty.
    pub withheld: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub label: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Document {
    pub kind: String,
    pub family: String,
    pub about: String,
    pub date: String,
    pub recorded_by: String,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActionEntry {
    pub description: String,
    pub owner: String,
    pub due_on: String,
    pub status: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct GoalEntry {
    pub family: String,
    pub goal: String,
    pub status: String,
    pub actions: Vec<ActionEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FlagEntry {
    pub kind: String,
    pub description: String,
    pub raised_on: String,
    pub ended_on: String,
    pub raised_by: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EpisodeEntry {
    pub family: String,
    pub level: String,
    pub status: String,
    pub opened_on: String,
    pub closed_on: String,
    pub close_reason: String,
    pub lead: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccessEntry {
    pub when: String,
    pub who: String,
    pub action: String,
    pub record: String,
    pub why: String,
    pub route: String,
}

/// The bundle as shown and downloaded. Field names are stable: the JSON is
/// the same struct serialised.
#[derive(Debug, Clone, Serialize)]
pub struct Bundle {
    pub format: &'static str,
    pub generated_at: String,
    pub tenant: String,
    pub answered_by: String,
    pub rules: Vec<RuleState>,
    pub subject: Identity,
    pub addresses: Vec<AddressEntry>,
    pub families: Vec<Membership>,
    pub relationships: Vec<RelationshipEntry>,
    pub consents: Vec<ConsentEntry>,
    pub referrals: Vec<ReferralEntry>,
    pub contacts: Vec<ContactEntry>,
    pub assessments: Vec<Document>,
    pub early_help_assessments: Vec<Document>,
    pub development: Vec<Document>,
    pub plan_goals: Vec<GoalEntry>,
    pub flags: Vec<FlagEntry>,
    pub episodes: Vec<EpisodeEntry>,
    pub access_log: Vec<AccessEntry>,
}

/// The format tag of the JSON.
pub const FORMAT: &str = "kindred-sar/1";

// ---------- redaction ----------

/// Replaces third parties' details in free text (when `other_people` is on).
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    on: bool,
    /// Lowercased name words to replace.
    words: Vec<String>,
    /// Lowercased phrases to replace wherever they occur (addresses, dates).
    phrases: Vec<String>,
    /// NHS numbers as ten digits.
    numbers: Vec<String>,
}

/// The words of a name: runs of letters and digits, lowercased, two or more
/// characters long.
pub fn name_words(name: &str) -> Vec<String> {
    name.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2)
        .map(|w| w.to_lowercase())
        .collect()
}

impl Redactor {
    /// A redactor for the subject's own names and the third parties: names
    /// that are the subject's too are kept.
    pub fn new(subject_names: &[String], others: &[ThirdParty], on: bool) -> Redactor {
        let own: Vec<String> = subject_names.iter().flat_map(|n| name_words(n)).collect();
        let mut words: Vec<String> = others
            .iter()
            .flat_map(|t| t.names.iter().flat_map(|n| name_words(n)))
            .filter(|w| !own.contains(w))
            .collect();
        words.sort();
        words.dedup();
        let mut phrases: Vec<String> = vec![];
        for t in others {
            for d in &t.dates_of_birth {
                phrases.push(d.to_lowercase());
                if let Ok(date) = crate::dates::parse_iso(d) {
                    phrases.push(crate::dates::long(date).to_lowercase());
                }
            }
            for a in &t.address_parts {
                let a = a.trim();
                if a.chars().count() >= 3 {
                    phrases.push(a.to_lowercase());
                }
            }
        }
        // Longest first, so a longer phrase is not cut by a shorter one inside it.
        phrases.sort_by_key(|p| std::cmp::Reverse(p.chars().count()));
        phrases.dedup();
        let numbers = others
            .iter()
            .flat_map(|t| t.nhs_numbers.iter())
            .map(|n| n.chars().filter(char::is_ascii_digit).collect::<String>())
            .filter(|n| n.len() == 10)
            .collect();
        Redactor {
            on,
            words,
            phrases,
            numbers,
        }
    }

    /// The text with every third party's details replaced.
    pub fn text(&self, s: &str) -> String {
        if !self.on || s.is_empty() {
            return s.to_string();
        }
        let mut out = s.to_string();
        for p in &self.phrases {
            out = outside_markers(&out, |seg| replace_ci(seg, p));
        }
        for n in &self.numbers {
            out = outside_markers(&out, |seg| replace_number(seg, n));
        }
        outside_markers(&out, |seg| replace_words(seg, &self.words))
    }
}

/// Applies `f` to the text between earlier replacements, so a marker is
/// never redacted again (someone called "Party", say).
fn outside_markers(text: &str, f: impl Fn(&str) -> String) -> String {
    text.split(REDACTED).map(f).collect::<Vec<_>>().join(REDACTED)
}

/// Replaces every case-insensitive occurrence of `phrase` (already lowercase).
fn replace_ci(text: &str, phrase: &str) -> String {
    let pat: Vec<char> = phrase.chars().collect();
    if pat.is_empty() {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let eq = |a: char, b: char| a == b || a.to_lowercase().eq(b.to_lowercase());
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if i + pat.len() <= chars.len() && pat.iter().enumerate().all(|(k, &p)| eq(chars[i + k], p)) {
            out.push_str(REDACTED);
            i += pat.len();
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Replaces an NHS number written with or without spaces or hyphens between
/// its digits.
fn replace_number(text: &str, digits: &str) -> String {
    let want: Vec<char> = digits.chars().collect();
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    'outer: while i < chars.len() {
        if chars[i] == want[0] && (i == 0 || !chars[i - 1].is_ascii_digit()) {
            let mut j = i;
            let mut k = 0;
            while j < chars.len() && k < want.len() {
                if chars[j] == want[k] {
                    k += 1;
                    j += 1;
                } else if k > 0 && (chars[j] == ' ' || chars[j] == '-') {
                    j += 1;
                } else {
                    break;
                }
            }
            if k == want.len() && (j >= chars.len() || !chars[j].is_ascii_digit()) {
                out.push_str(REDACTED);
                i = j;
                continue 'outer;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Replaces every whole word (a run of letters and digits) whose lowercase
/// form is in `words`.
fn replace_words(text: &str, words: &[String]) -> String {
    if words.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if !word.is_empty() {
            if words.binary_search(&word.to_lowercase()).is_ok() {
                out.push_str(REDACTED);
            } else {
                out.push_str(word);
            }
            word.clear();
        }
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Applies the rules to the source and returns the bundle.
pub fn bundle(src: &Source, rules: Rules) -> Bundle {
    let id = &src.identity;
    let mut own_names = vec![id.given_name.clone(), id.family_name.clone(), id.preferred_name.clone()];
    own_names.extend(id.previous_names.iter().map(|p| p.name.clone()));
    let r = Redactor::new(&own_names, &src.third_parties, rules.other_people);
    let subject_name = format!("{} {}", id.given_name, id.family_name);
    let person = |key: i64| -> String {
        if key == src.subject_id {
            subject_name.clone()
        } else if rules.other_people {
            REDACTED.to_string()
        } else {
            src.third_parties
                .iter()
                .find(|t| t.key == key)
                .map(ThirdParty::display_name)
                .unwrap_or_else(|| "Someone else".into())
        }
    };
    let staff = |s: &Staff| -> String {
        if rules.staff_names {
            format!("{}, {}", s.role, s.organisation)
        } else {
            format!("{} ({}, {})", s.name, s.role, s.organisation)
        }
    };
    let opt_staff = |s: &Option<Staff>| s.as_ref().map(staff).unwrap_or_default();
    let doc = |d: &SourceDocument| Document {
        kind: d.kind.clone(),
        family: d.family.clone(),
        about: d.about.map(person).unwrap_or_default(),
        date: d.date.clone(),
        recorded_by: opt_staff(&d.author),
        sections: d
            .sections
            .iter()
            .map(|(label, text)| Section {
                label: label.clone(),
                text: r.text(text),
            })
            .collect(),
    };
    Bundle {
        format: FORMAT,
        generated_at: src.generated_at.clone(),
        tenant: src.tenant.clone(),
        answered_by: src.answering_organisation.clone(),
        rules: Rule::ALL
            .into_iter()
            .map(|rule| RuleState {
                rule: rule.code(),
                label: rule.label(),
                enabled: rules.get(rule),
            })
            .collect(),
        subject: src.identity.clone(),
        addresses: src.addresses.clone(),
        families: src.families.clone(),
        relationships: src
            .relationships
            .iter()
            .map(|rel| RelationshipEntry {
                description: if rel.subject_is_from {
                    format!("{} is {} {}", subject_name, rel.kind.to_lowercase(), person(rel.other))
                } else {
                    format!("{} is {} {}", person(rel.other), rel.kind.to_lowercase(), subject_name)
                },
            })
            .collect(),
        consents: src
            .consents
            .iter()
            .map(|c| ConsentEntry {
                purpose: c.purpose.clone(),
                scope: c.scope.clone(),
                given_on: c.given_on.clone(),
                withdrawn_on: c.withdrawn_on.clone(),
                method: c.method.clone(),
                evidence: r.text(&c.evidence),
                given_by: c.given_by.map(person).unwrap_or_default(),
                competence_judgement: r.text(&c.competence_judgement),
                recorded_by: opt_staff(&c.recorded_by),
            })
            .collect(),
        referrals: src
            .referrals
            .iter()
            .map(|x| ReferralEntry {
                reference: x.reference.clone(),
                received_on: x.received_on.clone(),
                status: x.status.clone(),
                named_as: x.named_as.clone(),
                referred_by: r.text(&x.referred_by),
                summary: r.text(&x.summary),
                needs: x.needs.clone(),
                outcome: x.outcome.clone(),
                rationale: r.text(&x.rationale),
                others_named: x.others.iter().map(|k| person(*k)).collect(),
            })
            .collect(),
        contacts: src
            .contacts
            .iter()
            .map(|c| {
                let withheld = if rules.sensitive_notes && c.visibility == "sensitive" {
                    "A note recorded as sensitive was withheld.".to_string()
                } else if rules.other_agencies_notes && c.organisation_id != src.answering_organisation_id {
                    format!(
                        "A note recorded by {} was withheld: ask them for their own records.",
                        c.organisation
                    )
                } else {
                    String::new()
                };
                ContactEntry {
                    occurred_on: c.occurred_on.clone(),
                    mode: c.mode.clone(),
                    organisation: c.organisation.clone(),
                    recorded_by: staff(&c.author),
                    present: c.present.iter().map(|k| person(*k)).collect(),
                    note: if withheld.is_empty() {
                        r.text(&c.body)
                    } else {
                        String::new()
                    },
                    withheld,
                }
            })
            .collect(),
        assessments: src.assessments.iter().map(doc).collect(),
        early_help_assessments: src.early_help_assessments.iter().map(doc).collect(),
        development: src.development.iter().map(doc).collect(),
        plan_goals: src
            .plan_goals
            .iter()
            .map(|g| GoalEntry {
                family: g.family.clone(),
                goal: r.text(&g.words),
                status: g.status.clone(),
                actions: g
                    .actions
                    .iter()
                    .map(|a| ActionEntry {
                        description: r.text(&a.description),
                        owner: match &a.owner {
                            Owner::Staff(s) => staff(s),
                            Owner::Organisation(o) => o.clone(),
                            Owner::Person(k) => person(*k),
                            Owner::Nobody => String::new(),
                        },
                        due_on: a.due_on.clone(),
                        status: a.status.clone(),
                    })
                    .collect(),
            })
            .collect(),
        flags: src
            .flags
            .iter()
            .map(|f| FlagEntry {
                kind: f.kind.clone(),
                description: r.text(&f.description),
                raised_on: f.raised_on.clone(),
                ended_on: f.ended_on.clone(),
                raised_by: opt_staff(&f.raised_by),
            })
            .collect(),
        episodes: src
            .episodes
            .iter()
            .map(|e| EpisodeEntry {
                family: e.family.clone(),
                level: e.level.clone(),
                status: e.status.clone(),
                opened_on: e.opened_on.clone(),
                closed_on: e.closed_on.clone(),
                close_reason: r.text(&e.close_reason),
                lead: opt_staff(&e.lead),
            })
            .collect(),
        access_log: src
            .access_log
            .iter()
            .map(|a| AccessEntry {
                when: a.when.clone(),
                who: a
                    .who
                    .as_ref()
                    .map(staff)
                    .unwrap_or_else(|| "The family portal or the system".into()),
                action: a.action.clone(),
                record: a.record.clone(),
                why: a.why.clone(),
                route: a.route.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn third(key: i64, name: &str) -> ThirdParty {
        ThirdParty {
            key,
            names: vec![name.into()],
            dates_of_birth: vec!["2019-04-03".into()],
            nhs_numbers: vec!["9434765919".into()],
            address_parts: vec!["12 Elm Road".into(), "W2 5AB".into()],
        }
    }

    #[test]
    fn names_numbers_dates_and_addresses_are_replaced_in_text() {
        let r = Redactor::new(&["Priya Testwood".into()], &[third(2, "Marek Novak")], true);
        let out = r.text("MAREK came; novak's NHS 943 476 5919, born 3 April 2019 (2019-04-03), lives at 12 elm road, w2 5ab. Priya fine.");
        assert!(!out.to_lowercase().contains("marek"), "{out}");
        assert!(!out.to_lowercase().contains("novak"), "{out}");
        assert!(!out.contains("5919"), "{out}");
        assert!(!out.contains("2019"), "{out}");
        assert!(!out.to_lowercase().contains("elm road"), "{out}");
        assert!(!out.to_lowercase().contains("w2 5ab"), "{out}");
        assert!(out.contains("Priya fine"), "{out}");
        // Whole words only: "Marekville" is not Marek.
        assert_eq!(r.text("Marekville"), "Marekville");
        // Off: untouched.
        let off = Redactor::new(&["Priya Testwood".into()], &[third(2, "Marek Novak")], false);
        assert_eq!(off.text("Marek came"), "Marek came");
    }

    #[test]
    fn a_shared_surname_is_kept_because_it_is_the_subjects_own() {
        let r = Redactor::new(&["Aisha Khan".into()], &[third(2, "Zara Khan")], true);
        assert_eq!(r.text("Zara Khan visited"), format!("{REDACTED} Khan visited"));
    }

    #[test]
    fn rules_default_and_lay_stored_choices_over_them() {
        let d = Rules::default();
        assert!(d.other_people && d.sensitive_notes && !d.staff_names && !d.other_agencies_notes);
        let r = Rules::from_stored(&[("other_people".into(), false), ("nonsense".into(), true)]);
        assert!(!r.other_people && r.sensitive_notes);
    }

    fn contact(org: i64, visibility: &str, body: &str, present: Vec<i64>) -> SourceContact {
        SourceContact {
            occurred_on: "2025-01-01".into(),
            mode: "Home visit".into(),
            visibility: visibility.into(),
            organisation_id: org,
            organisation: format!("Org {org}"),
            author: Staff {
                name: "Wendy Worker".into(),
                role: "Health visitor".into(),
                organisation: format!("Org {org}"),
            },
            present,
            body: body.into(),
        }
    }

    #[test]
    fn notes_are_withheld_by_visibility_and_agency_and_staff_shown_by_role() {
        let src = Source {
            subject_id: 1,
            answering_organisation_id: 10,
            identity: Identity {
                given_name: "Priya".into(),
                family_name: "Testwood".into(),
                ..Default::default()
            },
            contacts: vec![
                contact(10, "sensitive", "secret words", vec![1]),
                contact(11, "everyone", "other agency words", vec![1, 2]),
                contact(10, "everyone", "own words", vec![1]),
            ],
            third_parties: vec![third(2, "Marek Novak")],
            ..Default::default()
        };
        let b = bundle(&src, Rules::default());
        let json = serde_json::to_string(&b).unwrap();
        assert!(!json.contains("secret words"));
        assert!(json.contains("A note recorded as sensitive was withheld"));
        assert!(json.contains("other agency words"));
        assert!(json.contains("own words"));
        assert!(json.contains("Wendy Worker"));
        assert_eq!(
            b.contacts[1].present,
            vec!["Priya Testwood".to_string(), REDACTED.to_string()]
        );
        let strict = Rules {
            staff_names: true,
            other_agencies_notes: true,
            ..Rules::default()
        };
        let json = serde_json::to_string(&bundle(&src, strict)).unwrap();
        assert!(!json.contains("other agency words"));
        assert!(json.contains("own words"));
        assert!(!json.contains("Wendy"));
        assert!(json.contains("Health visitor, Org 10"));
        let open = Rules {
            other_people: false,
            sensitive_notes: false,
            ..Rules::default()
        };
        let json = serde_json::to_string(&bundle(&src, open)).unwrap();
        assert!(json.contains("secret words"));
        assert!(json.contains("Marek Novak"));
    }

    fn words() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec(
            prop_oneof![
                Just("visited".to_string()),
                Just("said".to_string()),
                Just("the".to_string()),
                Just("home".to_string()),
                Just(",".to_string()),
                Just("and".to_string()),
            ],
            0..6,
        )
    }

    /// Third-party names are generated with a "Zq" prefix, so they cannot be
    /// any fixed word of the bundle; the subject is "Priya Testwood".
    fn source() -> impl Strategy<Value = (Source, Vec<String>)> {
        let names = proptest::collection::vec(("Zq[a-z]{2,6}", "Zq[a-z]{2,6}"), 1..4);
        (
            names,
            proptest::collection::vec((words(), 0usize..4, any::<bool>(), words()), 1..6),
        )
            .prop_map(|(names, notes)| {
                let third_parties: Vec<ThirdParty> = names
                    .iter()
                    .enumerate()
                    .map(|(i, (g, f))| ThirdParty {
                        key: 100 + i as i64,
                        names: vec![format!("{g} {f}")],
                        ..Default::default()
                    })
                    .collect();
                let tokens: Vec<String> = names.iter().flat_map(|(g, f)| [g.clone(), f.clone()]).collect();
                let mut contacts = vec![];
                let mut docs = vec![];
                for (before, who, upper, after) in notes {
                    let name = &tokens[who % tokens.len()];
                    let name = if upper {
                        name.to_uppercase()
                    } else {
                        name.to_lowercase()
                    };
                    let text = format!("{} {name}'s {}", before.join(" "), after.join(" "));
                    contacts.push(contact(10, "everyone", &text, vec![1, 100]));
                    docs.push(SourceDocument {
                        kind: "Assessment".into(),
                        family: "Testwood family".into(),
                        about: Some(100),
                        sections: vec![("Strengths".into(), text.clone())],
                        ..Default::default()
                    });
                }
                let src = Source {
                    subject_id: 1,
                    answering_organisation_id: 10,
                    identity: Identity {
                        given_name: "Priya".into(),
                        family_name: "Testwood".into(),
                        ..Default::default()
                    },
                    third_parties,
                    relationships: vec![SourceRelationship {
                        kind: "Partner of".into(),
                        subject_is_from: true,
                        other: 100,
                    }],
                    contacts,
                    assessments: docs,
                    ..Default::default()
                };
                (src, tokens)
            })
    }

    proptest! {
        #[test]
        fn no_third_party_name_survives_anywhere_when_other_people_is_on((src, tokens) in source()) {
            let b = bundle(&src, Rules::default());
            let json = serde_json::to_string(&b).unwrap().to_lowercase();
            for t in &tokens {
                prop_assert!(!json.contains(&t.to_lowercase()), "{} survived in {}", t, json);
            }
            prop_assert!(json.contains("priya testwood"));
        }

        #[test]
        fn with_other_people_off_the_text_is_untouched((src, tokens) in source()) {
            let rules = Rules { other_people: false, ..Rules::default() };
            let b = bundle(&src, rules);
            for (c, s) in b.contacts.iter().zip(&src.contacts) {
                prop_assert_eq!(&c.note, &s.body);
            }
            let json = serde_json::to_string(&b).unwrap().to_lowercase();
            prop_assert!(tokens.iter().any(|t| json.contains(&t.to_lowercase())));
        }

        #[test]
        fn redaction_never_panics_and_is_idempotent(text in "\\PC{0,60}", name in "[A-Za-z]{2,8}") {
            let r = Redactor::new(&["Subject Person".into()], &[ThirdParty { key: 2, names: vec![name], dates_of_birth: vec!["2020-01-01".into()], nhs_numbers: vec!["9434765919".into()], address_parts: vec!["1 Road".into()] }], true);
            let once = r.text(&text);
            prop_assert_eq!(r.text(&once), once.clone());
        }
    }
}
