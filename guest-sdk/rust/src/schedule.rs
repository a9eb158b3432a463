//! When a reminder fires: [`Schedule`] and its missed-tick policy
//! [`Missed`] (docs/ABI.md section 4.9).

use core::time::Duration;

/// What a reminder does with a tick that came due while no host was
/// running (the process was down, say).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missed {
    /// Fire once as soon as the host is back, however many ticks were
    /// missed, then go on with the schedule. The host's default.
    CatchUp,
    /// Drop the missed ticks without calling the actor: a periodic or cron
    /// reminder waits for its next tick, a once reminder is deleted unfired.
    Skip,
}

impl Missed {
    /// The policy's name on the wire: `catch_up` or `skip`.
    pub fn as_str(self) -> &'static str {
        match self {
            Missed::CatchUp => "catch_up",
            Missed::Skip => "skip",
        }
    }

    /// The policy named `s`, if it is one.
    pub fn from_name(s: &str) -> Option<Missed> {
        match s {
            "catch_up" => Some(Missed::CatchUp),
            "skip" => Some(Missed::Skip),
            _ => None,
        }
    }
}

/// When a reminder fires: once ([`asap`](Schedule::asap),
/// [`after`](Schedule::after), [`at_unix_ms`](Schedule::at_unix_ms)), at a
/// fixed period ([`every`](Schedule::every)) or at the times of a cron
/// expression ([`cron`](Schedule::cron)). Delays count from the host's
/// clock when the turn runs. Durations are sent in whole milliseconds,
/// rounded up.
///
/// ```
/// use std::time::Duration;
/// use wactor::{Missed, Schedule};
///
/// let hourly = Schedule::every(Duration::from_secs(3600)).first_after(Duration::from_secs(60));
/// let daily = Schedule::cron("0 9 * * *").missed(Missed::Skip);
/// assert_eq!(daily.cron_expr(), Some("0 9 * * *"));
/// assert_eq!(hourly.every_ms(), 3_600_000);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    // The wire fields (ABI 5.8), 0 or empty for absent. The constructors set
    // at most one of in, at, every and cron.
    in_ms: u64,
    at_unix_ms: u64,
    every_ms: u64,
    first_ms: u64,
    cron: Option<String>,
    missed: Option<Missed>,
}

/// Whole milliseconds of `d`, rounded up, so that a delay is never shorter
/// than asked; saturates (the host refuses more than ten years anyway).
pub(crate) fn millis(d: Duration) -> u64 {
    let ms = d.as_millis() + (d.subsec_nanos() % 1_000_000 != 0) as u128;
    if ms > u64::MAX as u128 {
        u64::MAX
    } else {
        ms as u64
    }
}

impl Schedule {
    fn empty() -> Schedule {
        Schedule { in_ms: 0, at_unix_ms: 0, every_ms: 0, first_ms: 0, cron: None, missed: None }
    }

    /// Fires once, as soon as possible after the turn commits.
    pub fn asap() -> Schedule {
        Schedule::empty()
    }

    /// Fires once, `d` after the turn (zero: as soon as possible).
    pub fn after(d: Duration) -> Schedule {
        Schedule { in_ms: millis(d), ..Schedule::empty() }
    }

    /// Fires once, at this Unix time in milliseconds; a time in the past
    /// fires as soon as possible.
    pub fn at_unix_ms(ms: u64) -> Schedule {
        // 0 would read as no schedule at all; 1 ms is as far in the past.
        Schedule { at_unix_ms: ms.max(1), ..Schedule::empty() }
    }

    /// Fires every `period` (at least a millisecond), the first time one
    /// period after the turn unless [`first_after`](Schedule::first_after)
    /// says otherwise. Ticks stay on the grid `first + k × period`.
    pub fn every(period: Duration) -> Schedule {
        Schedule { every_ms: millis(period), ..Schedule::empty() }
    }

    /// Fires at the times of a cron expression, in UTC: five fields
    /// (`minute hour day-of-month month day-of-week`, as in crontab(5)), six
    /// with leading seconds, seven with a trailing year, or `@yearly`,
    /// `@monthly`, `@weekly`, `@daily`, `@hourly`. The host refuses a
    /// malformed expression, or one that never fires, with `bad_request`
    /// (and the SDK an empty one, which the host would read as no schedule).
    pub fn cron(expr: &str) -> Schedule {
        Schedule { cron: Some(expr.to_string()), ..Schedule::empty() }
    }

    /// For an [`every`](Schedule::every) schedule: the first tick `d` after
    /// the turn (zero: at once, in 1 ms). The host refuses it, with
    /// `bad_request`, on any other schedule.
    pub fn first_after(mut self, d: Duration) -> Schedule {
        self.first_ms = millis(d).max(1);
        self
    }

    /// Sets the missed-tick policy; without it the host uses
    /// [`Missed::CatchUp`].
    pub fn missed(mut self, policy: Missed) -> Schedule {
        self.missed = Some(policy);
        self
    }

    /// The delay of an [`after`](Schedule::after) schedule in milliseconds;
    /// 0 for others.
    pub fn in_ms(&self) -> u64 {
        self.in_ms
    }

    /// The time of an [`at_unix_ms`](Schedule::at_unix_ms) schedule; 0 for
    /// others.
    pub fn at_ms(&self) -> u64 {
        self.at_unix_ms
    }

    /// The period of an [`every`](Schedule::every) schedule in
    /// milliseconds; 0 for others.
    pub fn every_ms(&self) -> u64 {
        self.every_ms
    }

    /// The delay to the first tick set by
    /// [`first_after`](Schedule::first_after) in milliseconds; 0 when unset.
    pub fn first_ms(&self) -> u64 {
        self.first_ms
    }

    /// The expression of a [`cron`](Schedule::cron) schedule.
    pub fn cron_expr(&self) -> Option<&str> {
        self.cron.as_deref()
    }

    /// The policy set by [`missed`](Schedule::missed), if any.
    pub fn missed_policy(&self) -> Option<Missed> {
        self.missed
    }

    /// The schedule of a decoded Reminder envelope, which may hold any
    /// combination of fields (for the native fake host).
    pub(crate) fn from_fields(
        in_ms: u64,
        at_unix_ms: u64,
        every_ms: u64,
        first_ms: u64,
        cron: &str,
        missed: Option<Missed>,
    ) -> Schedule {
        let cron = if cron.is_empty() { None } else { Some(cron.to_string()) };
        Schedule { in_ms, at_unix_ms, every_ms, first_ms, cron, missed }
    }
}
