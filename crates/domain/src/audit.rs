//! The audit trail: one event per read, create, update, search or export of
//! personal data, in an append-only hash chain.
//!
//! Each event's hash covers its own fields and the previous event's hash, so
//! editing or deleting any row breaks every link after it. Events carry ids and
//! codes, never names, NHS numbers, search terms or note text.

use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum AuditAction {
    Read,
    Create,
    Update,
    Search,
    Export,
    SignIn,
    SignOut,
    SignInFailed,
    /// A record erased under the retention rule.
    Erase,
}

impl AuditAction {
    pub fn code(self) -> &'static str {
        match self {
            AuditAction::Read => "read",
            AuditAction::Create => "create",
            AuditAction::Update => "update",
            AuditAction::Search => "search",
            AuditAction::Export => "export",
            AuditAction::SignIn => "sign_in",
            AuditAction::SignOut => "sign_out",
            AuditAction::SignInFailed => "sign_in_failed",
            AuditAction::Erase => "erase",
        }
    }

    pub fn label(code: &str) -> &'static str {
        match code {
            "read" => "Viewed",
            "create" => "Created",
            "update" => "Changed",
            "search" => "Searched",
            "export" => "Exported",
            "sign_in" => "Signed in",
            "sign_out" => "Signed out",
            "sign_in_failed" => "Sign-in failed",
            "erase" => "Erased",
            _ => "Other",
        }
    }
}

/// An event about to be written. `seq`, `at_ms` and the hashes are set by the writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub tenant_id: Option<i64>,
    pub actor_user_id: Option<i64>,
    pub action: AuditAction,
    /// `family`, `person`, `user`, `organisation`, `search`, `session`…
    pub record_kind: &'static str,
    pub record_id: Option<i64>,
    /// The family whose record this touches, so "who viewed" can be answered per family.
    pub family_id: Option<i64>,
    /// How: `web GET /families/{id}`, `cli user add`, `api`…
    pub route: String,
    /// Why access was granted (the policy basis), or a non-personal note.
    pub detail: String,
}

/// A stored event, as read back for verification and display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub seq: i64,
    pub at_ms: i64,
    pub tenant_id: Option<i64>,
    pub actor_user_id: Option<i64>,
    pub action: String,
    pub record_kind: String,
    pub record_id: Option<i64>,
    pub family_id: Option<i64>,
    pub route: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash the chain starts from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of an event: SHA-256 over a length-prefixed encoding of every field
/// and the previous hash, so no two different events can encode alike.
pub fn hash_event(e: &Event) -> String {
    fn opt(v: Option<i64>) -> String {
        v.map(|x| x.to_string()).unwrap_or_default()
    }
    let fields = [
        e.seq.to_string(),
        e.at_ms.to_string(),
        opt(e.tenant_id),
        opt(e.actor_user_id),
        e.action.clone(),
        e.record_kind.clone(),
        opt(e.record_id),
        opt(e.family_id),
        e.route.clone(),
        e.detail.clone(),
        e.prev_hash.clone(),
    ];
    let mut h = Sha256::new();
    for f in &fields {
        h.update((f.len() as u64).to_be_bytes());
        h.update(f.as_bytes());
    }
    hex::encode(h.finalize())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broken {
    /// A sequence number is missing: a row was deleted.
    Gap { expected_seq: i64, found_seq: i64 },
    /// The row's `prev_hash` is not its predecessor's hash.
    Link { seq: i64 },
    /// The row's content no longer matches its hash: it was edited.
    Content { seq: i64 },
    /// The chain ends before the recorded head: rows were removed from the end.
    Truncated { head_seq: i64, last_seq: i64 },
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Broken::Gap {
                expected_seq,
                found_seq,
            } => {
                write!(f, "event {expected_seq} is missing (next found is {found_seq})")
            }
            Broken::Link { seq } => write!(f, "event {seq} does not link to the event before it"),
            Broken::Content { seq } => write!(f, "event {seq} was changed after it was written"),
            Broken::Truncated { head_seq, last_seq } => {
                write!(f, "events after {last_seq} are missing (the chain head is {head_seq})")
            }
        }
    }
}

/// Walks events in `seq` order and returns the first broken link, if any.
/// `head` is the (seq, hash) the writer recorded last, to detect a cut tail.
pub struct Verifier {
    expected_seq: i64,
    prev_hash: String,
    pub checked: u64,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier {
            expected_seq: 1,
            prev_hash: GENESIS.to_string(),
            checked: 0,
        }
    }
}

impl Verifier {
    pub fn check(&mut self, e: &Event) -> Result<(), Broken> {
        if e.seq != self.expected_seq {
            return Err(Broken::Gap {
                expected_seq: self.expected_seq,
                found_seq: e.seq,
            });
        }
        if e.prev_hash != self.prev_hash {
            return Err(Broken::Link { seq: e.seq });
        }
        if hash_event(e) != e.hash {
            return Err(Broken::Content { seq: e.seq });
        }
        self.expected_seq += 1;
        self.prev_hash = e.hash.clone();
        self.checked += 1;
        Ok(())
    }

    pub fn finish(&self, head_seq: i64, head_hash: &str) -> Result<(), Broken> {
        let last_seq = self.expected_seq - 1;
        if head_seq != last_seq {
            return Err(Broken::Truncated { head_seq, last_seq });
        }
        if head_seq > 0 && head_hash != self.prev_hash {
            return Err(Broken::Link { seq: head_seq });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<Event> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let mut e = Event {
                    seq,
                    at_ms: 1_700_000_000_000 + seq,
                    tenant_id: Some(1),
                    actor_user_id: Some(7),
                    action: "read".into(),
                    record_kind: "family".into(),
                    record_id: Some(seq),
                    family_id: Some(seq),
                    route: "web".into(),
                    detail: "lead_professional".into(),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = hash_event(&e);
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn verify(events: &[Event], head: (i64, &str)) -> Result<(), Broken> {
        let mut v = Verifier::default();
        for e in events {
            v.check(e)?;
        }
        v.finish(head.0, head.1)
    }

    #[test]
    fn intact_chain_verifies_and_every_tamper_is_found() {
        let c = chain(5);
        let head = (5, c[4].hash.clone());
        assert_eq!(verify(&c, (head.0, &head.1)), Ok(()));

        let mut edited = c.clone();
        edited[2].record_id = Some(99);
        assert_eq!(verify(&edited, (head.0, &head.1)), Err(Broken::Content { seq: 3 }));

        let mut deleted = c.clone();
        deleted.remove(1);
        assert_eq!(
            verify(&deleted, (head.0, &head.1)),
            Err(Broken::Gap {
                expected_seq: 2,
                found_seq: 3
            })
        );

        let cut = &c[..3];
        assert_eq!(
            verify(cut, (head.0, &head.1)),
            Err(Broken::Truncated {
                head_seq: 5,
                last_seq: 3
            })
        );

        // Rewriting a row and its hash still breaks the next link.
        let mut rehashed = c.clone();
        rehashed[1].detail = "forged".into();
        rehashed[1].hash = hash_event(&rehashed[1]);
        assert_eq!(verify(&rehashed, (head.0, &head.1)), Err(Broken::Link { seq: 3 }));
    }
}
