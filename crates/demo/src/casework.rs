//! Casework in the demo: contacts over the last year, flags, referrals (open
//! in the triage queue, and decided before), episodes, each borough's family
//! of eight with 500 contacts, and a few hand-made referrals and panels that
//! show the front door at work: self-referrals whose details are a little
//! wrong, a referral overdue, a step-down, decisions told to the referrer.

use kindred_domain::model::OrgKind;
use kindred_domain::referral::{Level, Outcome};
use kindred_store::Db;
use kindred_store::bulk::{
    AddressRow, Batch, ContactRow, DecisionRow, EpisodeEventRow, EpisodeRow, FamilyRow, FlagRow, MaxIds,
    ReferralPersonRow, ReferralRow, TaskRow,
};
use kindred_store::referrals::NewDecision;
use kindred_store::tasks::NewTask;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::{Date, Duration};

use crate::{FamilyGen, Kind, Member, Partnership, names};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// A service still involved with a family.
pub(crate) struct Active {
    pub kind: OrgKind,
    pub org: i64,
    pub started: Date,
}

/// What the casework of one family is generated from.
pub(crate) struct FamilyFacts<'m> {
    pub id: i64,
    pub members: &'m [Member],
    pub active: &'m [Active],
    pub lead: Option<i64>,
    pub hub: Option<i64>,
}

/// One of the first families of a borough, kept for the hand-made referrals.
#[derive(Clone)]
pub(crate) struct Known {
    pub family_id: i64,
    pub members: Vec<Member>,
    pub postcode: String,
    pub line1: String,
    pub hub: Option<i64>,
}

/// A referral to generate.
struct Spec {
    family_id: Option<i64>,
    received: i64,
    route: &'static str,
    referrer: Option<i64>,
    needs: Vec<&'static str>,
    /// The people it is about, linked to the known person or not.
    people: Vec<(Member, bool)>,
    urgent: bool,
    claimed_by: Option<i64>,
    hub: Option<i64>,
    decision: Option<DecisionRow>,
    /// Address as the referrer gave it, for people not linked.
    address: Option<(String, String)>,
}

/// How often each kind of service sees a family in a year, and how.
fn contact_plan(kind: OrgKind) -> (u32, u32, &'static [&'static str]) {
    match kind {
        OrgKind::HealthVisiting => (2, 9, &["home_visit", "hub", "phone", "virtual"]),
        OrgKind::Midwifery => (2, 7, &["home_visit", "hub"]),
        OrgKind::EarlyHelp => (3, 14, &["home_visit", "hub", "phone", "outreach"]),
        OrgKind::ChildrensSocialCare => (5, 16, &["home_visit", "phone", "school"]),
        OrgKind::FamilyHub => (1, 5, &["hub"]),
        OrgKind::Vcs => (2, 8, &["hub", "outreach", "phone"]),
        OrgKind::SchoolNursing => (1, 4, &["school", "phone"]),
        OrgKind::School => (1, 5, &["school"]),
        OrgKind::Camhs => (2, 8, &["virtual", "hub"]),
        OrgKind::AdultMentalHealth => (2, 6, &["home_visit", "phone"]),
        OrgKind::AdultSocialCare => (1, 3, &["home_visit", "phone"]),
        OrgKind::Housing => (1, 3, &["phone", "outreach"]),
        OrgKind::Police => (1, 2, &["home_visit"]),
        OrgKind::GpPractice => (0, 3, &["phone", "virtual"]),
    }
}

/// What a contact note says. Synthetic, and never shown outside the policy.
fn note(kind: OrgKind) -> &'static [&'static str] {
    match kind {
        OrgKind::HealthVisiting | OrgKind::Midwifery => &[
            "Weighed baby; feeding well. Talked about safe sleep.",
            "Mum tired but coping; agreed a follow-up at the hub clinic.",
            "Development review: talking and play on track.",
            "Discussed low mood; gave the perinatal mental health leaflet.",
        ],
        OrgKind::EarlyHelp | OrgKind::FamilyHub | OrgKind::Vcs => &[
            "Family support session on morning routines.",
            "Helped with a benefits form; food bank voucher given.",
            "Reviewed the family plan together; school run going better.",
            "Stay and play session; dad attended for the first time.",
        ],
        OrgKind::ChildrensSocialCare | OrgKind::Police => &[
            "Visit to the home; children seen and spoken to alone.",
            "Strategy discussion outcome shared with the family.",
            "Home conditions improved since the last visit.",
        ],
        OrgKind::School | OrgKind::SchoolNursing => &[
            "Attendance meeting with parent; plan agreed.",
            "Drop-in with the school nurse about sleep and worries.",
            "Pastoral check-in; settled in class this week.",
        ],
        _ => &[
            "Appointment attended.",
            "Phone review; no new concerns.",
            "Letter sent about the next appointment.",
        ],
    }
}

/// The referrer's words, by the first need.
fn summary(need: &str) -> &'static str {
    match need {
        "school_attendance" => "Attendance has fallen below 80% this term despite an attendance plan.",
        "exclusion" => "Two fixed-term exclusions this year; the school is worried about a permanent one.",
        "send_support" => "Waiting for an EHC needs assessment; behaviour at school is escalating.",
        "early_development" => "Speech delayed at the 2-year review; parent would like support with play.",
        "parenting_early" => "First baby, little family support nearby, parent finding it hard to cope.",
        "child_mental_health" => "Low mood and not sleeping; has talked about self-harm to a friend.",
        "parent_mental_health" => "Parent has postnatal depression and is struggling with the children's routines.",
        "physical_health" => "Long-term condition not well managed; missed several hospital appointments.",
        "substance_use" => "Concerns about a parent's drinking in the evenings.",
        "parental_conflict" => "Frequent arguments between the parents that the children witness.",
        "behaviour" => "Aggressive outbursts at home; parents say they have tried everything.",
        "young_carer" => "Child looks after a parent with a long-term illness and is often late to school.",
        "exploitation" => "Missing from home twice this month; new older friends.",
        "neglect_concern" => "Children often arrive hungry and in unwashed uniform.",
        "offending" => "Young person arrested for shoplifting; first time known to police.",
        "domestic_abuse" => "Police attended a domestic incident last week; mother wants support.",
        "housing" => "Family of five in one room in temporary accommodation; damp.",
        "debt" => "Rent arrears and a court letter; the family has no money for food this week.",
        _ => "Parent out of work since the spring and would like help finding work.",
    }
}

/// Needs that fit a family: a pool to draw from by the ages in it.
fn needs_for(members: &[Member]) -> Vec<&'static str> {
    let young = members
        .iter()
        .any(|m| m.kind == Kind::Unborn || (m.kind == Kind::Child && m.age < 5));
    let school = members.iter().any(|m| m.kind == Kind::Child && m.age >= 5);
    let teen = members.iter().any(|m| m.kind == Kind::Child && m.age >= 12);
    let mut pool = vec![
        "parent_mental_health",
        "parental_conflict",
        "domestic_abuse",
        "housing",
        "debt",
        "worklessness",
        "physical_health",
        "substance_use",
    ];
    if young {
        pool.extend(["parenting_early", "early_development", "parenting_early"]);
    }
    if school {
        pool.extend(["school_attendance", "behaviour", "send_support", "neglect_concern"]);
    }
    if teen {
        pool.extend([
            "child_mental_health",
            "exclusion",
            "exploitation",
            "offending",
            "young_carer",
        ]);
    }
    pool
}

fn full_name(m: &Member) -> String {
    format!("{} {}", m.given, m.family)
}

fn day_of(now_ms: i64, today: Date, at_ms: i64) -> Date {
    today - Duration::days((now_ms - at_ms).max(0) / DAY)
}

/// A reference from an id: unique for unique ids (an odd multiplier is a bijection mod 2^40).
fn reference_for(id: i64) -> String {
    kindred_domain::referral::reference((id as u64).wrapping_mul(0x9E37_79B9) & 0xFF_FFFF_FFFF)
}

impl Partnership {
    fn kind_of_org(&self, org: i64) -> Option<OrgKind> {
        self.orgs
            .iter()
            .find(|(_, ids)| ids.contains(&org))
            .map(|(kind, _)| *kind)
    }

    /// A worker of the organisation, or of another organisation of its kind.
    fn worker_at(&self, rng: &mut ChaCha8Rng, org: i64) -> Option<i64> {
        if let Some(w) = self.workers.get(&org).and_then(|v| v.choose(rng)) {
            return Some(*w);
        }
        let kind = self.kind_of_org(org)?;
        self.worker_of_kind(rng, kind)
    }

    fn worker_of_kind(&self, rng: &mut ChaCha8Rng, kind: OrgKind) -> Option<i64> {
        let pool: Vec<i64> = self
            .orgs
            .get(&kind)?
            .iter()
            .filter_map(|o| self.workers.get(o))
            .flatten()
            .copied()
            .collect();
        pool.choose(rng).copied()
    }
}

impl FamilyGen<'_> {
    /// A year of contacts, flags, referrals and episodes for a family.
    pub(crate) fn casework(&mut self, f: &FamilyFacts) {
        for a in f.active {
            let (min, max, _) = contact_plan(a.kind);
            for _ in 0..self.rng.gen_range(min..=max) {
                self.contact(f, a);
            }
        }
        self.flags(f);
        self.history(f);
        if self.rng.gen_bool(self.open_rate) {
            self.open_referral(f);
        }
    }

    /// One contact by a service, with one or two of the family present.
    fn contact(&mut self, f: &FamilyFacts, a: &Active) {
        let Some(author) = self.p.worker_at(self.rng, a.org) else {
            return;
        };
        let (_, _, modes) = contact_plan(a.kind);
        let span = (self.today - a.started).whole_days().clamp(1, 365);
        let occurred_on = self.today - Duration::days(self.rng.gen_range(0..span));
        let visibility = match self.rng.gen_range(0..20) {
            0..=9 => "team",
            10..=14 => "profession",
            15..=17 => "organisation",
            _ => "sensitive",
        };
        let wanted = |m: &&Member| match a.kind {
            OrgKind::HealthVisiting | OrgKind::Midwifery => {
                m.kind == Kind::Unborn || (m.kind == Kind::Child && m.age < 5) || m.role == "parent"
            }
            OrgKind::School | OrgKind::SchoolNursing => m.kind == Kind::Child && m.age >= 4,
            OrgKind::Camhs => m.kind == Kind::Child && m.age >= 11,
            OrgKind::AdultMentalHealth | OrgKind::AdultSocialCare | OrgKind::Housing | OrgKind::Police => {
                m.kind == Kind::Adult
            }
            _ => m.kind != Kind::Unborn,
        };
        let mut present: Vec<i64> = f.members.iter().filter(wanted).map(|m| m.id).collect();
        if present.is_empty() {
            present = f.members.iter().map(|m| m.id).collect();
        }
        present.shuffle(self.rng);
        present.truncate(self.rng.gen_range(1..=2));
        self.ids.contact += 1;
        let id = self.ids.contact;
        self.batch.contacts.push(ContactRow {
            id,
            tenant_id: self.p.tenant_id,
            family_id: f.id,
            organisation_id: a.org,
            author_user_id: author,
            occurred_on,
            mode: modes.choose(self.rng).copied().unwrap_or("phone"),
            visibility,
            body: note(a.kind).choose(self.rng).copied().unwrap_or_default().to_string(),
        });
        self.batch.contact_people.extend(present.into_iter().map(|p| (id, p)));
    }

    /// Flags that go with the services involved: child in need or protection
    /// when social care is, young carers, EHCPs.
    fn flags(&mut self, f: &FamilyFacts) {
        let kinds: Vec<OrgKind> = f.active.iter().map(|a| a.kind).collect();
        let children: Vec<&Member> = f.members.iter().filter(|m| m.kind == Kind::Child).collect();
        let raised_on = self.today - Duration::days(self.rng.gen_range(10..300));
        if let (Some(a), Some(child)) = (
            f.active.iter().find(|a| a.kind == OrgKind::ChildrensSocialCare),
            children.choose(self.rng),
        ) {
            let roll = self.rng.gen_range(0..10);
            if roll < 8 {
                let (kind, description) = if roll < 2 {
                    ("child_protection_plan", "Child protection plan: neglect")
                } else {
                    ("child_in_need", "Child in need plan")
                };
                let by = self.p.worker_at(self.rng, a.org);
                self.flag(f.id, Some(child.id), kind, description, by, raised_on);
            }
        }
        let unwell_adult = kinds.contains(&OrgKind::AdultMentalHealth) || kinds.contains(&OrgKind::AdultSocialCare);
        if unwell_adult
            && let Some(teen) = children.iter().find(|m| m.age >= 11)
            && self.rng.gen_bool(0.5)
        {
            self.flag(
                f.id,
                Some(teen.id),
                "young_carer",
                "Cares for a parent",
                None,
                raised_on,
            );
        }
        if let Some(m) = f.members.iter().find(|m| m.send && m.age <= 25)
            && self.rng.gen_bool(0.3)
        {
            self.flag(
                f.id,
                Some(m.id),
                "ehcp",
                "Education, health and care plan",
                None,
                raised_on,
            );
        }
        if self.rng.gen_bool(0.01) {
            self.flag(
                f.id,
                None,
                "safeguarding_concern",
                "Concern shared at the daily safeguarding meeting",
                None,
                raised_on,
            );
        }
    }

    fn flag(
        &mut self,
        family_id: i64,
        person_id: Option<i64>,
        kind: &'static str,
        description: &str,
        by: Option<i64>,
        raised_on: Date,
    ) {
        self.batch.flags.push(FlagRow {
            tenant_id: self.p.tenant_id,
            family_id,
            person_id,
            kind,
            description: description.to_string(),
            raised_by_user_id: by,
            raised_on,
            ended_on: None,
        });
    }

    /// Earlier referrals, decided, and the episodes of work that followed.
    fn history(&mut self, f: &FamilyFacts) {
        let known_to_services = f
            .active
            .iter()
            .any(|a| matches!(a.kind, OrgKind::EarlyHelp | OrgKind::ChildrensSocialCare));
        let mut episode = false;
        if self.rng.gen_bool(if known_to_services { 0.35 } else { 0.08 }) {
            let received = self.now_ms - self.rng.gen_range(20..330) * DAY - self.rng.gen_range(0..8) * HOUR;
            let (outcome, level) = match self.rng.gen_range(0..100) {
                0..=24 => (Outcome::Signpost, Level::Universal),
                25..=54 => (Outcome::SingleAgency, Level::SingleAgency),
                55..=79 => (Outcome::MultiAgency, Level::Targeted),
                80..=84 => (Outcome::StepUp, Level::Statutory),
                _ => (Outcome::NoFurtherAction, Level::Universal),
            };
            let lead = if outcome == Outcome::MultiAgency {
                f.lead.or_else(|| self.p.worker_of_kind(self.rng, OrgKind::EarlyHelp))
            } else {
                None
            };
            let decided_at = received + self.rng.gen_range(2..40) * HOUR;
            let spec = self.spec_for(f, received, Some((outcome, level, decided_at, lead)));
            let id = self.referral(spec);
            if outcome == Outcome::MultiAgency {
                let opened_on = day_of(self.now_ms, self.today, decided_at);
                let closed_on = opened_on + Duration::days(self.rng.gen_range(60..200));
                let closed = closed_on < self.today && self.rng.gen_bool(0.4);
                episode = !closed;
                self.episode(
                    f.id,
                    Some(id),
                    lead,
                    level,
                    opened_on,
                    closed.then_some(closed_on),
                    None,
                );
            }
        }
        // Families led by early help without a referral on record have an episode of their own.
        let eh_lead = f
            .lead
            .and_then(|l| self.p.org_of.get(&l))
            .and_then(|o| self.p.kind_of_org(*o))
            == Some(OrgKind::EarlyHelp);
        if eh_lead && !episode && self.rng.gen_bool(0.5) {
            // Some came back: an earlier episode, closed with its outcome.
            if self.rng.gen_bool(0.4) {
                let opened_on = self.today - Duration::days(self.rng.gen_range(330..500));
                let closed_on = opened_on + Duration::days(self.rng.gen_range(90..250));
                self.episode(
                    f.id,
                    None,
                    f.lead,
                    Level::SingleAgency,
                    opened_on,
                    Some(closed_on),
                    f.lead,
                );
            }
            let opened_on = self.today - Duration::days(self.rng.gen_range(14..200));
            self.episode(f.id, None, f.lead, Level::SingleAgency, opened_on, None, f.lead);
        }
    }

    /// An episode with its timeline: opened, moved from assessment to a plan
    /// after about a month and to review twelve weeks later, now and then a
    /// step up to social care (and sometimes back), closed with an outcome — a few closed and reopened. An open episode at plan or review
    /// has its review due in the lead's tasks, overdue where the review was missed.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn episode(
        &mut self,
        family_id: i64,
        referral_id: Option<i64>,
        lead: Option<i64>,
        level: Level,
        opened_on: Date,
        closed_on: Option<Date>,
        opened_by: Option<i64>,
    ) -> i64 {
        use kindred_domain::episode::{Outcome as End, Stage};
        self.ids.episode += 1;
        let id = self.ids.episode;
        let (now_ms, today) = (self.now_ms, self.today);
        // Working hours: from 09:00 UTC on the day, never later than now.
        let midnight = now_ms - now_ms.rem_euclid(DAY);
        let at = |d: Date, hour: i64| (midnight - (today - d).whole_days() * DAY + (9 + hour) * HOUR).min(now_ms);
        let mut events = vec![];
        let mut ev = |d: Date, by: Option<i64>, kind: &'static str, from, to, detail: &str| {
            events.push(EpisodeEventRow {
                episode_id: id,
                at_ms: at(d.min(today), 2),
                by_user_id: by,
                kind,
                from_value: from,
                to_value: to,
                detail: detail.to_string(),
            })
        };
        ev(opened_on, opened_by.or(lead), "opened", None, Some(level.code()), "");
        let end = closed_on.unwrap_or(today);
        let mut stage = Stage::Assessment;
        let mut entered = opened_on;
        let mut level = level;
        let mut d = opened_on + Duration::days(self.rng.gen_range(21..42));
        while d < end {
            let next = if stage == Stage::Plan {
                Stage::Review
            } else {
                Stage::Plan
            };
            ev(d, lead, "stage_changed", Some(stage.code()), Some(next.code()), "");
            stage = next;
            entered = d;
            d += Duration::days(if stage == Stage::Plan {
                self.rng.gen_range(70..100)
            } else {
                self.rng.gen_range(7..21)
            });
        }
        let mid = opened_on + Duration::days(((end - opened_on).whole_days() / 2).max(1));
        if lead.is_some() && self.rng.gen_bool(0.04) && level != Level::Statutory {
            ev(
                mid,
                lead,
                "stepped_up",
                Some(level.code()),
                Some(Level::Statutory.code()),
                "",
            );
            level = Level::Statutory;
            if self.rng.gen_bool(0.5) {
                let back = mid + Duration::days(((end - mid).whole_days() / 2).max(1));
                ev(
                    back,
                    lead,
                    "stepped_down",
                    Some(level.code()),
                    Some(Level::Targeted.code()),
                    "",
                );
                level = Level::Targeted;
            }
        }
        let mut status_closed = closed_on.is_some();
        let mut outcome = None;
        let mut reason = None;
        if let Some(c) = closed_on {
            let (o, why) = match self.rng.gen_range(0..100) {
                0..=44 => (
                    End::NeedsMet,
                    "Outcomes achieved: the family's goals were met at review",
                ),
                45..=64 => (
                    End::PartlyMet,
                    "Some goals met; the family is supported by universal services",
                ),
                65..=71 => (End::NotMet, "Needs not met; signposted to the family hub's drop-in"),
                72..=79 => (End::SteppedUp, "Stepped up to children's social care"),
                80..=91 => (End::Disengaged, "The family chose to stop working with us"),
                _ => (End::MovedAway, "The family moved away"),
            };
            ev(c, lead, "closed", Some(stage.code()), Some(Stage::Closure.code()), why);
            outcome = Some(o.code());
            reason = Some(why);
            // About one closed episode in twelve was reopened when things changed again.
            if c + Duration::days(14) < today && self.rng.gen_bool(0.08) {
                ev(
                    c + Duration::days(self.rng.gen_range(7..14)),
                    lead,
                    "reopened",
                    Some("closure"),
                    Some("assessment"),
                    "",
                );
                status_closed = false;
                (outcome, reason) = (None, None);
                stage = Stage::Assessment;
            }
        }
        self.batch.episode_events.append(&mut events);
        self.batch.episodes.push(EpisodeRow {
            id,
            tenant_id: self.p.tenant_id,
            family_id,
            referral_id,
            lead_user_id: lead,
            level: level.code(),
            opened_on,
            closed_on: if status_closed { closed_on } else { None },
            close_reason: reason,
            stage: if status_closed {
                Stage::Closure.code()
            } else {
                stage.code()
            },
            outcome,
        });
        if let (false, Some(lead), Stage::Plan | Stage::Review) = (status_closed, lead, stage) {
            self.batch.tasks.push(TaskRow {
                tenant_id: self.p.tenant_id,
                kind: kindred_domain::task::Kind::ReviewDue.code(),
                family_id: Some(family_id),
                episode_id: Some(id),
                assigned_user_id: Some(lead),
                assigned_team_id: None,
                title: format!("Review the episode's {}", stage.label().to_lowercase()),
                due_on: entered + Duration::weeks(kindred_domain::episode::REVIEW_WEEKS),
                done: false,
                created_at_ms: at(entered, 3),
            });
        }
        id
    }

    /// A referral about a known family, waiting in the queue.
    fn open_referral(&mut self, f: &FamilyFacts) {
        // Most arrived in the last two days; about one in seven is past its due time.
        let received = self.now_ms - self.rng.gen_range(0..56 * 60) * 60_000;
        let mut spec = self.spec_for(f, received, None);
        spec.claimed_by = self
            .rng
            .gen_bool(0.2)
            .then(|| self.p.named.get("triage").copied())
            .flatten();
        spec.urgent = self.rng.gen_bool(0.12);
        self.referral(spec);
    }

    /// A referral about a family by one of the services involved (or the
    /// family itself, or social care stepping down).
    fn spec_for(&mut self, f: &FamilyFacts, received: i64, decided: Option<DecisionSpec>) -> Spec {
        let pool = needs_for(f.members);
        let n = self.rng.gen_range(1..=3);
        let mut needs: Vec<&'static str> = pool.choose_multiple(self.rng, n).copied().collect();
        needs.sort_unstable();
        needs.dedup();
        let csc = f.active.iter().find(|a| a.kind == OrgKind::ChildrensSocialCare);
        let roll = self.rng.gen_range(0..100);
        let (route, referrer) = if roll < 12 {
            ("self", None)
        } else if roll < 20 && csc.is_some() {
            ("step_down", csc.and_then(|a| self.p.worker_at(self.rng, a.org)))
        } else {
            let by = f
                .active
                .choose(self.rng)
                .and_then(|a| self.p.worker_at(self.rng, a.org))
                .or_else(|| self.p.worker_of_kind(self.rng, OrgKind::HealthVisiting));
            ("professional", by)
        };
        let mut people: Vec<(Member, bool)> = vec![];
        let children: Vec<&Member> = f.members.iter().filter(|m| m.kind != Kind::Adult).collect();
        if let Some(c) = children.choose(self.rng) {
            people.push(((*c).clone(), true));
        }
        if route == "self" || people.is_empty() || self.rng.gen_bool(0.5) {
            people.insert(0, (f.members[0].clone(), true));
        }
        let decision = decided.map(|(outcome, level, at_ms, lead)| DecisionRow {
            at_ms,
            by_user_id: self.p.named.get("triage").copied().unwrap_or_default(),
            level: level.code(),
            outcome: outcome.code(),
            rationale: rationale(outcome).to_string(),
            lead_user_id: lead,
        });
        Spec {
            family_id: Some(f.id),
            received,
            route,
            referrer,
            needs,
            people,
            urgent: false,
            claimed_by: None,
            hub: f.hub,
            decision,
            address: None,
        }
    }

    /// Adds a referral, its needs, people and timeline to the batch; returns its id.
    fn referral(&mut self, s: Spec) -> i64 {
        self.ids.referral += 1;
        let id = self.ids.referral;
        let p = self.p;
        let (referrer_name, referrer_role, org) = match s.referrer {
            Some(u) => {
                let org = p.org_of.get(&u).copied();
                let role = org
                    .and_then(|o| p.kind_of_org(o))
                    .map(|k| k.label().to_string())
                    .unwrap_or_default();
                (p.names.get(&u).cloned().unwrap_or_default(), role, org)
            }
            None => (
                s.people.first().map(|(m, _)| full_name(m)).unwrap_or_default(),
                "Parent or carer".to_string(),
                None,
            ),
        };
        let consent_by = match s.route {
            "self" => referrer_name.clone(),
            _ if self.rng.gen_bool(0.85) => s
                .people
                .iter()
                .find(|(m, _)| m.kind == Kind::Adult)
                .map(|(m, _)| full_name(m))
                .unwrap_or_default(),
            _ => String::new(),
        };
        let first_need = s.needs.first().copied().unwrap_or("worklessness");
        self.batch.referrals.push(ReferralRow {
            id,
            tenant_id: p.tenant_id,
            family_id: s.family_id,
            reference: reference_for(id),
            route: s.route,
            urgency: if s.urgent { "urgent" } else { "routine" },
            received_at_ms: s.received,
            due_at_ms: p.rule.due_ms(s.received),
            hub_site_id: s.hub,
            referrer_user_id: s.referrer,
            referrer_organisation_id: org,
            referrer_name,
            referrer_role,
            summary: summary(first_need).to_string(),
            consent_on: (!consent_by.is_empty()).then(|| day_of(self.now_ms, self.today, s.received)),
            consent_by,
            claimed_by_user_id: s.claimed_by,
            decision: s.decision.clone(),
        });
        self.batch.referral_needs.extend(s.needs.iter().map(|n| (id, *n)));
        for (m, linked) in &s.people {
            self.batch.referral_people.push(ReferralPersonRow {
                referral_id: id,
                person_id: linked.then_some(m.id),
                role: m.role,
                given_name: m.given.to_string(),
                family_name: m.family.clone(),
                date_of_birth: m.dob,
                expected_delivery: m.edd,
                sex: m.sex,
                nhs_number: if *linked { None } else { m.nhs.clone() },
                postcode: s.address.as_ref().map(|a| a.1.clone()),
                address_line: s.address.as_ref().map(|a| a.0.clone()),
            });
        }
        let route_label = match s.route {
            "self" => "Self-referral",
            "step_down" => "Step-down from children's social care",
            _ => "Professional referral",
        };
        self.batch
            .referral_events
            .push((id, s.received, s.referrer, "received", route_label.to_string()));
        if let Some(c) = s.claimed_by {
            self.batch.referral_events.push((
                id,
                s.received + HOUR.min(self.now_ms - s.received),
                Some(c),
                "claimed",
                String::new(),
            ));
        }
        if let Some(d) = &s.decision {
            let label = Outcome::parse(d.outcome).map(|o| o.label()).unwrap_or_default();
            self.batch
                .referral_events
                .push((id, d.at_ms, Some(d.by_user_id), "decided", label.to_string()));
        }
        id
    }

    /// A family of eight known to ten services, with `contacts` contacts in the last year.
    /// A family of eight (two parents, a grandparent, five children), or of
    /// eight plus `extra_children`, known to ten services, with `contacts` this year.
    pub(crate) fn large_family(&mut self, family_id: i64, contacts: u32, extra_children: usize) {
        let surname = names::SURNAMES.choose(self.rng).copied().unwrap_or("Okafor");
        let mut m = vec![
            self.person(surname, true, Kind::Adult, 36, 40, "parent", None),
            self.person(surname, false, Kind::Adult, 39, 44, "parent", None),
            self.person(surname, true, Kind::Adult, 64, 70, "grandparent", None),
        ];
        let ages = [(15, 16), (12, 13), (8, 9), (3, 4), (0, 0), (10, 11), (5, 6), (1, 2)];
        for &(lo, hi) in &ages[..(5 + extra_children).min(ages.len())] {
            let female = self.rng.gen_bool(0.5);
            m.push(self.person(surname, female, Kind::Child, lo, hi, "child", None));
        }
        // The 8-year-old has an EHCP.
        if let Some(p) = self.batch.persons.iter_mut().find(|p| p.id == m[5].id) {
            p.send = true;
        }
        m[5].send = true;
        let joined = self.today - Duration::days(900);
        for x in &m {
            self.batch.members.push((family_id, x.id, x.role, joined));
        }
        for c in &m[3..] {
            self.batch.relationships.push((m[0].id, c.id, "parent_of"));
            self.batch.relationships.push((m[1].id, c.id, "parent_of"));
            self.batch.relationships.push((m[2].id, c.id, "grandparent_of"));
        }
        self.batch.relationships.push((m[0].id, m[1].id, "partner_of"));
        for (i, a) in m[3..].iter().enumerate() {
            for b in &m[4 + i..] {
                self.batch.relationships.push((a.id, b.id, "sibling_of"));
            }
        }
        let street = names::STREETS.choose(self.rng).copied().unwrap_or("High Street");
        let line1 = format!("{} {street}", self.rng.gen_range(1..240));
        let postcode = self.postcode();
        for x in &m {
            self.batch.addresses.push(AddressRow {
                person_id: x.id,
                line1: line1.clone(),
                town: "London".into(),
                postcode: postcode.clone(),
                from_date: joined,
                to_date: None,
            });
        }
        let hub = self.hub_of(&postcode);
        // Ten services, and the demo's own practitioners in the team where the borough has them.
        let kinds = [
            (OrgKind::HealthVisiting, "Health visiting", 3, Some("hv")),
            (OrgKind::School, "Education", 2, None),
            (OrgKind::SchoolNursing, "School nursing", 1, Some("schoolnurse")),
            (OrgKind::EarlyHelp, "Family support", 5, Some("earlyhelp")),
            (OrgKind::ChildrensSocialCare, "Child in need", 4, Some("socialworker")),
            (OrgKind::Camhs, "CAMHS", 2, None),
            (OrgKind::AdultMentalHealth, "Parental mental health", 2, None),
            (OrgKind::Housing, "Housing options", 1, None),
            (OrgKind::FamilyHub, "Family hub services", 2, None),
            (OrgKind::GpPractice, "GP practice", 1, None),
        ];
        let mut active = vec![];
        let mut weights = vec![];
        let mut lead = None;
        for (kind, service, weight, demo_user) in kinds {
            let Some(org) = self.p.orgs.get(&kind).and_then(|v| v.first()).copied() else {
                continue;
            };
            let started = joined + Duration::days(self.rng.gen_range(0..400));
            self.batch
                .involvements
                .push((family_id, org, service.to_string(), started, None));
            let worker = demo_user.and_then(|u| self.p.named.get(u).copied()).or_else(|| {
                matches!(
                    kind,
                    OrgKind::HealthVisiting | OrgKind::EarlyHelp | OrgKind::ChildrensSocialCare
                )
                .then(|| self.p.worker_at(self.rng, org))
                .flatten()
            });
            if let Some(w) = worker {
                self.batch.team.push((family_id, w, started));
                if kind == OrgKind::EarlyHelp {
                    lead = Some(w);
                }
            }
            active.push(Active { kind, org, started });
            weights.push(weight);
        }
        self.batch.families.push(FamilyRow {
            id: family_id,
            tenant_id: self.p.tenant_id,
            name: format!("{surname} household"),
            lead_user_id: lead,
        });
        if let Some(l) = lead {
            self.batch.leads.push((family_id, l, self.now_ms - 120 * DAY));
        }
        let facts = FamilyFacts {
            id: family_id,
            members: &m,
            active: &active,
            lead,
            hub,
        };
        let total: u32 = weights.iter().sum();
        for _ in 0..contacts {
            let mut pick = self.rng.gen_range(0..total);
            let mut i = 0;
            while pick >= weights[i] {
                pick -= weights[i];
                i += 1;
            }
            self.contact(&facts, &active[i]);
        }
        // The demo's health visitor wrote some of them, for health visitors only:
        // the school nurse in the same team sees they happened, not what they say.
        let hv_org = active.iter().find(|a| a.kind == OrgKind::HealthVisiting).map(|a| a.org);
        if let (Some(hv), Some(org)) = (self.p.named.get("hv").copied(), hv_org) {
            for c in self
                .batch
                .contacts
                .iter_mut()
                .filter(|c| c.family_id == family_id && c.organisation_id == org)
                .take(3)
            {
                c.author_user_id = hv;
                c.visibility = "profession";
                c.body = "Mum disclosed low mood since the baby; agreed to see the GP. Health visitors only.".into();
            }
        }
        let raised = self.today - Duration::days(150);
        let social_worker = self.p.named.get("socialworker").copied();
        self.flag(
            family_id,
            Some(m[4].id),
            "child_in_need",
            "Child in need plan",
            social_worker,
            raised,
        );
        self.flag(
            family_id,
            Some(m[3].id),
            "young_carer",
            "Helps care for grandmother",
            None,
            raised,
        );
        self.flag(
            family_id,
            Some(m[5].id),
            "ehcp",
            "Education, health and care plan",
            None,
            raised,
        );
        // Three referrals this year, decided, and one waiting.
        let history = [
            (330, Outcome::Signpost, Level::Universal, "parenting_early"),
            (200, Outcome::SingleAgency, Level::SingleAgency, "school_attendance"),
            (120, Outcome::MultiAgency, Level::Targeted, "parent_mental_health"),
        ];
        for (days, outcome, level, need) in history {
            let received = self.now_ms - days * DAY;
            let decided_at = received + 20 * HOUR;
            let mut spec = self.spec_for(
                &facts,
                received,
                Some((
                    outcome,
                    level,
                    decided_at,
                    (outcome == Outcome::MultiAgency).then_some(lead).flatten(),
                )),
            );
            spec.route = "professional";
            spec.needs = vec![need];
            spec.referrer = self.p.named.get("hv").copied().or(spec.referrer);
            let id = self.referral(spec);
            if outcome == Outcome::MultiAgency {
                let opened_on = day_of(self.now_ms, self.today, decided_at);
                self.episode(family_id, Some(id), lead, level, opened_on, None, None);
            }
        }
        let mut waiting = self.spec_for(&facts, self.now_ms - 5 * HOUR, None);
        waiting.route = "professional";
        waiting.referrer = self.p.named.get("schoolnurse").copied().or(waiting.referrer);
        waiting.needs = vec!["child_mental_health", "school_attendance", "young_carer"];
        waiting.people = vec![(m[3].clone(), true), (m[0].clone(), true)];
        self.referral(waiting);
    }
}

/// (outcome, level, decided at ms, lead)
type DecisionSpec = (Outcome, Level, i64, Option<i64>);

fn rationale(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Signpost => "Needs can be met by the universal offer; family agreed to try the hub's stay and play.",
        Outcome::SingleAgency => "One agency can meet the need; school will lead with an attendance plan.",
        Outcome::MultiAgency => "Several needs across the family; a lead professional will coordinate one plan.",
        Outcome::StepUp => "Risk of significant harm; referred to children's social care the same day.",
        Outcome::NoFurtherAction => "Already supported by services; nothing more needed now.",
    }
}

/// Misspells a name the way forms get it wrong: two letters swapped.
fn typo(name: &str) -> String {
    let mut c: Vec<char> = name.chars().collect();
    if c.len() >= 4 {
        c.swap(1, 2);
    }
    c.into_iter().collect()
}

/// A date with day and month swapped where that is still a date, else a day later.
fn swapped(d: Date) -> Date {
    time::Month::try_from(d.day())
        .ok()
        .and_then(|m| Date::from_calendar_date(d.year(), m, u8::from(d.month())).ok())
        .filter(|s| *s != d)
        .unwrap_or(d + Duration::days(1))
}

/// The hand-made part of the demo for one borough: referrals that show
/// matching, overdue and claimed work, a step-down, decisions told to their
/// referrers, and panels past and to come. Returns how many referrals it
/// left waiting in the queue.
pub(crate) async fn showcase(
    db: &Db,
    p: &Partnership,
    known: &[Known],
    rng: &mut ChaCha8Rng,
    ids: &mut MaxIds,
) -> anyhow::Result<u64> {
    if known.len() < 10 {
        return Ok(0);
    }
    let today = kindred_store::today();
    let now_ms = kindred_store::now_ms();
    let named = |u: &str| p.named.get(u).copied();
    let triage = named("triage");
    let mut batch = Batch::default();
    let mut nhs_used = Default::default();
    let mut sub_rng = ChaCha8Rng::seed_from_u64(rng.r#gen());
    let mut known_list = vec![];
    let mut g = FamilyGen {
        rng: &mut sub_rng,
        today,
        batch: &mut batch,
        nhs_used: &mut nhs_used,
        p,
        child_cap: 99,
        ids,
        now_ms,
        open_rate: 0.0,
        known: &mut known_list,
    };
    let adult = |k: &Known| k.members[0].clone();
    let child = |k: &Known| {
        k.members
            .iter()
            .find(|m| m.kind != Kind::Adult)
            .cloned()
            .unwrap_or_else(|| k.members[0].clone())
    };
    let spec = |k: &Known, received: i64, route, referrer: Option<i64>, needs: Vec<&'static str>| Spec {
        family_id: Some(k.family_id),
        received,
        route,
        referrer,
        needs,
        people: vec![(child(k), true), (adult(k), true)],
        urgent: false,
        claimed_by: None,
        hub: k.hub,
        decision: None,
        address: None,
    };
    let mut waiting = 0;
    // 1. A parent asks for help themselves; the form has their name misspelt and
    //    the date of birth day-for-month, and no NHS number: triage sees possible matches.
    let k = &known[0];
    let mut parent = adult(k);
    let typo_given = typo(parent.given);
    parent.given = Box::leak(typo_given.into_boxed_str());
    parent.dob = parent.dob.map(swapped);
    parent.nhs = None;
    let mut kid = child(k);
    kid.nhs = None;
    g.referral(Spec {
        family_id: None,
        people: vec![(parent, false), (kid, false)],
        address: Some((k.line1.clone(), k.postcode.clone())),
        ..spec(k, now_ms - 3 * HOUR, "self", None, vec!["debt", "parent_mental_health"])
    });
    waiting += 1;
    // 2. A family nobody knows yet: an expectant mother asking for help.
    let given = names::WOMEN.choose(g.rng).copied().unwrap_or("Amira");
    let mother = Member {
        id: 0,
        kind: Kind::Adult,
        age: 27,
        role: "parent",
        send: false,
        given,
        family: "Haddad-Lowe".into(),
        dob: Some(today - Duration::days(27 * 365 + 40)),
        edd: None,
        sex: "female",
        nhs: None,
    };
    let baby = Member {
        kind: Kind::Unborn,
        role: "unborn",
        given: "Baby",
        dob: None,
        edd: Some(today + Duration::days(90)),
        sex: "unknown",
        ..mother.clone()
    };
    let postcode = g.postcode();
    g.referral(Spec {
        family_id: None,
        people: vec![(mother, false), (baby, false)],
        address: Some(("Flat 3, 12 Harrow Road".into(), postcode.clone())),
        hub: g.hub_of(&postcode),
        ..spec(
            &known[1],
            now_ms - 30 * HOUR,
            "self",
            None,
            vec!["housing", "parenting_early"],
        )
    });
    waiting += 1;
    // 3. The health visitor's urgent referral of a family already known, claimed by triage.
    let hv = named("hv");
    g.referral(Spec {
        urgent: true,
        claimed_by: triage,
        ..spec(
            &known[2],
            now_ms - 20 * HOUR,
            "professional",
            hv,
            vec!["parent_mental_health", "parenting_early"],
        )
    });
    waiting += 1;
    // 4. The school nurse's referral, overdue: the child given with an NHS number, not yet linked.
    if let Some(nurse) = named("schoolnurse").or(hv) {
        let mut kid = child(&known[3]);
        kid.nhs = kid.nhs.or_else(|| known[3].members.iter().find_map(|m| m.nhs.clone()));
        g.referral(Spec {
            family_id: None,
            people: vec![(kid, false)],
            ..spec(
                &known[3],
                now_ms - 74 * HOUR,
                "professional",
                Some(nurse),
                vec!["child_mental_health", "school_attendance"],
            )
        });
        waiting += 1;
    }
    // 5. The voluntary sector's referral, waiting: details exact, not yet linked.
    let vcs = named("vcs");
    if let Some(v) = vcs {
        g.referral(Spec {
            family_id: None,
            people: vec![(adult(&known[4]), false), (child(&known[4]), false)],
            address: Some((known[4].line1.clone(), known[4].postcode.clone())),
            ..spec(
                &known[4],
                now_ms - 6 * HOUR,
                "professional",
                Some(v),
                vec!["debt", "housing"],
            )
        });
        waiting += 1;
    }
    // 6 and 7 are decided below, through the same calls triage makes.
    let to_signpost = vcs.map(|v| {
        g.referral(spec(
            &known[5],
            now_ms - 4 * DAY,
            "professional",
            Some(v),
            vec!["worklessness"],
        ))
    });
    let to_multi = hv.map(|h| {
        g.referral(spec(
            &known[6],
            now_ms - 9 * DAY,
            "professional",
            Some(h),
            vec!["parental_conflict", "behaviour", "school_attendance"],
        ))
    });
    // 8. Social care stepping a family down to early help.
    if let Some(sw) = named("socialworker") {
        g.referral(spec(
            &known[7],
            now_ms - 2 * HOUR,
            "step_down",
            Some(sw),
            vec!["parental_conflict", "neglect_concern"],
        ));
        waiting += 1;
    }
    db.bulk_insert(&batch).await?;
    db.reset_id_sequences().await?;
    personal_tasks(db, p, today).await?;
    showcase_episodes(db, p, today, now_ms).await?;

    let Some(triage) = triage else { return Ok(waiting) };
    if let Some(id) = to_signpost {
        decide(db, p, id, triage, Outcome::Signpost, None).await?;
    }
    if let Some(id) = to_multi {
        let lead = named("earlyhelp").or_else(|| p.worker_of_kind(rng, OrgKind::EarlyHelp));
        decide(db, p, id, triage, Outcome::MultiAgency, lead).await?;
    }

    // Panels: one last week with decisions and actions, one next week with its agenda.
    let chair = named("manager").unwrap_or(triage);
    let hub = p.hubs.first().map(|h| h.0);
    let past = db
        .create_meeting(p.tenant_id, "Early help panel", today - Duration::days(7), hub, chair)
        .await?;
    let next = db
        .create_meeting(p.tenant_id, "Early help panel", today + Duration::days(5), hub, chair)
        .await?;
    for u in ["triage", "earlyhelp", "hv", "socialworker", "manager", "schoolnurse"] {
        if let Some(id) = named(u) {
            db.add_attendee(past, id).await?;
            db.add_attendee(next, id).await?;
        }
    }
    let lead = named("earlyhelp").or_else(|| p.worker_of_kind(rng, OrgKind::EarlyHelp));
    let discussed = [
        (
            &known[8],
            "Three referrals this year from different services; nobody has the whole picture.",
            "Multi-agency early help. One family plan; the school and health visitor to share attendance and health information before the first meeting.",
            vec![
                (
                    "Arrange the first team around the family meeting",
                    "Lead professional",
                    7,
                ),
                ("Share attendance figures for the last two terms", "School", 10),
            ],
        ),
        (
            &known[9],
            "Housing and money worries; the family asked for help at the hub.",
            "Single agency: family hub practitioner to support with housing and a benefits check. Review at the next panel.",
            vec![(
                "Book a benefits check with the welfare rights adviser",
                "Family hub",
                14,
            )],
        ),
    ];
    for (k, reason, decision, actions) in discussed {
        let item = db.add_item(past, k.family_id, None, reason).await?;
        db.record_item_decision(item, decision, lead, chair).await?;
        for (what, who, days) in actions {
            db.add_action(item, what, who, Some(today + Duration::days(days)))
                .await?;
        }
    }
    db.add_item(
        next,
        known[2].family_id,
        None,
        "Urgent health visitor referral: parental mental health and a new baby.",
    )
    .await?;
    db.add_item(
        next,
        known[7].family_id,
        None,
        "Stepped down from children's social care: agree the early help offer.",
    )
    .await?;
    Ok(waiting)
}

/// Records a decision as triage does: the referral leaves the queue, a
/// multi-agency outcome opens an episode with its lead, and the referrer and
/// lead are told in the app.
async fn decide(db: &Db, p: &Partnership, id: i64, by: i64, outcome: Outcome, lead: Option<i64>) -> anyhow::Result<()> {
    let r = db.referral(id).await?.ok_or_else(|| anyhow::anyhow!("referral {id}"))?;
    let today = kindred_store::today();
    let level = match outcome {
        Outcome::MultiAgency => Level::Targeted,
        Outcome::SingleAgency => Level::SingleAgency,
        Outcome::StepUp => Level::Statutory,
        _ => Level::Universal,
    };
    let detail = if outcome == Outcome::Signpost {
        "Citizens Advice drop-in at the family hub, Tuesdays 10:00 to 12:00"
    } else {
        ""
    };
    db.decide_referral(
        id,
        &NewDecision {
            user_id: by,
            level,
            outcome,
            rationale: rationale(outcome).to_string(),
            detail: detail.to_string(),
            organisation_id: None,
            lead_user_id: lead,
        },
    )
    .await?;
    if let (Outcome::MultiAgency, Some(fid), Some(lead)) = (outcome, r.family_id, lead) {
        db.open_episode(r.tenant_id, fid, Some(id), Some(lead), level.code(), Some(by), today)
            .await?;
        if let Some(org) = p.org_of.get(&lead)
            && !db
                .involvements(fid)
                .await?
                .iter()
                .any(|i| i.organisation_id == *org && i.ended_on.is_none())
        {
            db.add_involvement(fid, *org, "Early help: lead professional", today)
                .await?;
        }
        if !db
            .team(fid)
            .await?
            .iter()
            .any(|t| t.user_id == lead && t.until_date.is_none())
        {
            db.add_team_member(fid, lead, today).await?;
        }
        db.set_lead(fid, lead, today).await?;
        db.notify(
            lead,
            Some(id),
            &format!(
                "You are the lead professional for a family after triage of referral {}.",
                r.reference
            ),
        )
        .await?;
    }
    if let Some(u) = r.referrer_user_id {
        db.notify(
            u,
            Some(id),
            &format!(
                "Referral {} has been triaged. Outcome: {}.",
                r.reference,
                outcome.label()
            ),
        )
        .await?;
    }
    Ok(())
}

/// Each demo practitioner's own work beyond reviews: follow-ups, alerts,
/// welcome contacts from births, a transition plan — some overdue — about
/// families they work with, and an alert for the health visitors' team.
async fn personal_tasks(db: &Db, p: &Partnership, today: Date) -> anyhow::Result<()> {
    use kindred_domain::task::Kind as T;
    /// (kind, title, due in days from today)
    type Work = (T, &'static str, i64);
    let plan: [(&str, &[Work]); 5] = [
        (
            "hv",
            &[
                (
                    T::WelcomeContact,
                    "Welcome visit: a baby born this month in the hub's area",
                    3,
                ),
                (T::Alert, "Missed 12-month immunisations: check with the family", -6),
                (T::FollowUp, "Check the breastfeeding group referral went through", -2),
                (T::FollowUp, "Book the two-year review", 12),
            ],
        ),
        (
            "schoolnurse",
            &[
                (T::FollowUp, "Ask school about attendance since half term", -3),
                (T::Alert, "A&E attendance reported: follow up", -1),
                (T::FollowUp, "Drop-in session about sleep", 9),
            ],
        ),
        (
            "socialworker",
            &[
                (T::TransitionPlan, "Plan the move to adult services before 18", 30),
                (T::FollowUp, "Step-down meeting with early help", -5),
                (T::FollowUp, "Core group minutes to the family", 4),
            ],
        ),
        (
            "earlyhelp",
            &[
                (T::FollowUp, "Home visit to agree the family plan", -4),
                (T::FollowUp, "Chase the housing repair request", 2),
                (T::FollowUp, "Introduce the family to the parenting group", 14),
            ],
        ),
        (
            "vcs",
            &[
                (T::FollowUp, "Food bank voucher: check it was used", -1),
                (T::FollowUp, "Invite to the Saturday dads' group", 6),
            ],
        ),
    ];
    for (who, tasks) in plan {
        let Some(&uid) = p.named.get(who) else { continue };
        let user = db.user(uid).await?;
        let (families, _) = db.visible_families(&user.subject(), tasks.len() as i64, 0).await?;
        for ((kind, title, days), f) in tasks.iter().zip(families.iter().cycle()) {
            db.add_task(&NewTask {
                tenant_id: p.tenant_id,
                kind: kind.code(),
                family_id: Some(f.id),
                episode_id: None,
                assigned_user_id: Some(uid),
                assigned_team_id: None,
                title: title.to_string(),
                due_on: today + Duration::days(*days),
                created_by_user_id: Some(uid),
            })
            .await?;
        }
        if who == "hv"
            && let Some(team) = user.team_id
        {
            db.add_task(&NewTask {
                tenant_id: p.tenant_id,
                kind: T::Alert.code(),
                family_id: None,
                episode_id: None,
                assigned_user_id: None,
                assigned_team_id: Some(team),
                title: "Missed immunisations this month: share the list at the team meeting".into(),
                due_on: today - Duration::days(1),
                created_by_user_id: None,
            })
            .await?;
        }
    }
    Ok(())
}

/// Three episodes of the early help worker's families told in full: one
/// closed at review and reopened months later, one stepped up to children's
/// social care with its review now overdue, one closed when the family moved.
async fn showcase_episodes(db: &Db, p: &Partnership, today: Date, now_ms: i64) -> anyhow::Result<()> {
    let Some(&eh) = p.named.get("earlyhelp") else {
        return Ok(());
    };
    let user = db.user(eh).await?;
    let (families, _) = db.visible_families(&user.subject(), 3, 0).await?;
    let mut id = db.max_ids().await?.episode;
    let mut batch = Batch::default();
    type Line = (
        i64,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        &'static str,
    );
    /// (opened days ago, level, stage now, (outcome, reason) if closed, the timeline after opening)
    type Story = (
        i64,
        &'static str,
        &'static str,
        Option<(&'static str, &'static str)>,
        &'static [Line],
    );
    let stories: [Story; 3] = [
        (
            260,
            "3",
            "plan",
            None,
            &[
                (230, "stage_changed", Some("assessment"), Some("plan"), ""),
                (150, "stage_changed", Some("plan"), Some("review"), ""),
                (
                    140,
                    "closed",
                    Some("review"),
                    Some("closure"),
                    "Outcomes achieved at review: mornings and school attendance are better",
                ),
                (
                    40,
                    "reopened",
                    Some("closure"),
                    Some("assessment"),
                    "Dad's hours cut; rent arrears again",
                ),
                (20, "stage_changed", Some("assessment"), Some("plan"), ""),
            ],
        ),
        (
            120,
            "4",
            "plan",
            None,
            &[
                (95, "stage_changed", Some("assessment"), Some("plan"), ""),
                (
                    30,
                    "stepped_up",
                    Some("3"),
                    Some("4"),
                    "Disclosure of domestic abuse: strategy discussion held",
                ),
            ],
        ),
        (
            300,
            "3",
            "closure",
            Some((
                "moved_away",
                "The family moved to another borough; their early help team has the plan",
            )),
            &[
                (270, "stage_changed", Some("assessment"), Some("plan"), ""),
                (185, "stage_changed", Some("plan"), Some("review"), ""),
                (
                    170,
                    "closed",
                    Some("review"),
                    Some("closure"),
                    "The family moved to another borough; their early help team has the plan",
                ),
            ],
        ),
    ];
    let midnight = now_ms - now_ms.rem_euclid(DAY);
    let at = |days: i64| midnight - days * DAY + 14 * HOUR;
    for (f, (opened, level, stage, closed, lines)) in families.iter().zip(stories) {
        id += 1;
        let opened_on = today - Duration::days(opened);
        batch.episode_events.push(EpisodeEventRow {
            episode_id: id,
            at_ms: at(opened),
            by_user_id: Some(eh),
            kind: "opened",
            from_value: None,
            to_value: Some("3"),
            detail: String::new(),
        });
        for (days, kind, from, to, detail) in lines {
            batch.episode_events.push(EpisodeEventRow {
                episode_id: id,
                at_ms: at(*days),
                by_user_id: Some(eh),
                kind,
                from_value: *from,
                to_value: *to,
                detail: detail.to_string(),
            });
        }
        batch.episodes.push(EpisodeRow {
            id,
            tenant_id: p.tenant_id,
            family_id: f.id,
            referral_id: None,
            lead_user_id: Some(eh),
            level: if level == "4" { "4" } else { "3" },
            opened_on,
            closed_on: closed.map(|_| today - Duration::days(lines.last().map_or(0, |l| l.0))),
            close_reason: closed.map(|c| c.1),
            stage: match stage {
                "plan" => "plan",
                _ => "closure",
            },
            outcome: closed.map(|c| c.0),
        });
        if closed.is_none() {
            let entered = lines.iter().rev().find(|l| l.1 == "stage_changed").map_or(0, |l| l.0);
            batch.tasks.push(TaskRow {
                tenant_id: p.tenant_id,
                kind: kindred_domain::task::Kind::ReviewDue.code(),
                family_id: Some(f.id),
                episode_id: Some(id),
                assigned_user_id: Some(eh),
                assigned_team_id: None,
                title: "Review the episode's plan".into(),
                due_on: today - Duration::days(entered) + Duration::weeks(kindred_domain::episode::REVIEW_WEEKS),
                done: false,
                created_at_ms: at(entered),
            });
        }
    }
    db.bulk_insert(&batch).await?;
    db.reset_id_sequences().await?;
    Ok(())
}
