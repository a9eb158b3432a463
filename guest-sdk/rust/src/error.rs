//! Errors with a code and a message: what a handler returns to answer with
//! an application error, and what host calls return when they fail.

use core::fmt;

use crate::cbor::CborError;

/// The error codes of the runtime (docs/ABI.md section 8). Any other code is
/// an application error of the actor's own, such as `insufficient_funds`.
pub mod codes {
    /// Malformed body, ref or payload.
    pub const BAD_REQUEST: &str = "bad_request";
    /// No such actor type.
    pub const UNKNOWN_TYPE: &str = "unknown_type";
    /// The guest has no handler for the method.
    pub const UNKNOWN_METHOD: &str = "unknown_method";
    /// A message, reply or state value over its limit.
    pub const TOO_LARGE: &str = "too_large";
    /// The callee's bounded mailbox is full.
    pub const MAILBOX_FULL: &str = "mailbox_full";
    /// An ask got no reply in time.
    pub const TIMEOUT: &str = "timeout";
    /// The callee ran past its per-turn execution limit.
    pub const TURN_TIMEOUT: &str = "turn_timeout";
    /// The callee hit its memory limit.
    pub const MEMORY_EXHAUSTED: &str = "memory_exhausted";
    /// The callee trapped (a panic, `unreachable`, an out-of-bounds access).
    pub const TRAPPED: &str = "trapped";
    /// The callee (or the host, answering this guest) broke the ABI.
    pub const BAD_REPLY: &str = "bad_reply";
    /// The ask would wait on its own call chain.
    pub const DEADLOCK: &str = "deadlock";
    /// The host is shutting down or its storage is unavailable.
    pub const UNAVAILABLE: &str = "unavailable";
    /// The code of a reply whose handler failed with an empty code.
    pub const ERROR: &str = "error";
    /// A state value that is not what the SDK's typed getters expect.
    pub const BAD_STATE: &str = "bad_state";
}

/// An error with a machine-readable code and a sentence for people.
///
/// A handler that returns `Err(Error)` answers its caller with exactly this
/// code and message, and its turn does not commit: no state write or tell of
/// the turn happens. The instance stays (this is not a crash).
///
/// ```
/// use wactor::Error;
/// let e = Error::new("insufficient_funds", "balance is 5");
/// assert_eq!(e.code, "insufficient_funds");
/// assert!(e.is("insufficient_funds"));
/// assert_eq!(e.to_string(), "insufficient_funds: balance is 5");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub code: String,
    pub message: String,
}

impl Error {
    /// An error with the given code and message. An empty code becomes
    /// [`codes::ERROR`] when it is sent.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Error {
        Error { code: code.into(), message: message.into() }
    }

    /// A [`codes::BAD_REQUEST`] error: the payload is malformed or lacks a
    /// field.
    pub fn bad_request(message: impl Into<String>) -> Error {
        Error::new(codes::BAD_REQUEST, message)
    }

    /// A [`codes::UNKNOWN_METHOD`] error for `method`, for actors that
    /// dispatch by hand.
    pub fn unknown_method(method: &str) -> Error {
        let mut m = String::from("wactor: no handler for method \"");
        m.push_str(method);
        m.push('"');
        Error::new(codes::UNKNOWN_METHOD, m)
    }

    /// Whether the error has the given code.
    pub fn is(&self, code: &str) -> bool {
        self.code == code
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            f.write_str(&self.code)
        } else {
            write!(f, "{}: {}", self.code, self.message)
        }
    }
}

impl std::error::Error for Error {}

/// Malformed CBOR in a payload is the caller's fault: `bad_request`.
impl From<CborError> for Error {
    fn from(e: CborError) -> Error {
        let mut m = String::from("malformed payload: ");
        m.push_str(e.what);
        m.push_str(" at byte ");
        push_uint(&mut m, e.offset as u64);
        Error::new(codes::BAD_REQUEST, m)
    }
}

/// Appends `v` in decimal (without the formatting machinery).
pub(crate) fn push_uint(s: &mut String, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for d in &digits[i..] {
        s.push(*d as char);
    }
}
