//! Lifecycle messages: what a watcher (see [`crate::Context::watch`]) is
//! told when an actor it watches deactivates.

use crate::{Doc, Error};

/// The method of a lifecycle message. Names that start with `wactor:` are
/// the host's own: no actor or client may send them.
pub const METHOD_DEACTIVATED: &str = "wactor:deactivated";

/// Why an actor deactivated, as a lifecycle message says.
pub mod reasons {
    /// It had no message for its type's idle timeout.
    pub const IDLE: &str = "idle";
    /// It called `deactivate` in a turn.
    pub const REQUESTED: &str = "requested";
    /// The host made room for other activations.
    pub const EVICTED: &str = "evicted";
    /// The host shut down.
    pub const SHUTDOWN: &str = "shutdown";
    /// Its instance broke and was discarded.
    pub const FAILED: &str = "failed";
    /// A new version of its type was deployed.
    pub const REDEPLOYED: &str = "redeployed";
    /// In a cluster: its node lost it (died, paused or cut off past its
    /// lease) and another node took it over.
    pub const LOST: &str = "lost";
}

/// The payload of a lifecycle message: `{"ref": "type/id", "reason": text}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lifecycle {
    /// The actor that deactivated, "type/id".
    pub actor: String,
    /// Why: one of [`reasons`].
    pub reason: String,
}

impl Lifecycle {
    /// Reads a lifecycle message's payload.
    pub fn parse(payload: &[u8]) -> Result<Lifecycle, Error> {
        let doc = Doc::parse(payload)?;
        match (doc.text("ref"), doc.text("reason")) {
            (Some(actor), Some(reason)) => Ok(Lifecycle { actor: actor.to_string(), reason: reason.to_string() }),
            _ => Err(Error::bad_request("a lifecycle message needs a text \"ref\" and \"reason\"")),
        }
    }
}
