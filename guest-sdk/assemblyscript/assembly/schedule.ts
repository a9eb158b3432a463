// Schedule: when a reminder fires (docs/ABI.md 4.9 and 5.8).

/**
 * Missed-tick policies of a reminder: what happens to ticks that came due
 * while no host was running (docs/ABI.md 4.9).
 */
export namespace Missed {
  /** Fire once as soon as the host is back, then go on. The default. */
  export const CATCH_UP = "catch_up";
  /** Drop the missed ticks; a once reminder is deleted unfired. */
  export const SKIP = "skip";
}

/**
 * When a reminder fires: once (`in`, `atUnixMs`, `asap`), on a fixed grid
 * (`every`) or at the times of a cron expression (`cron`). One schedule per
 * reminder, so the ABI's "at most one schedule" holds by construction.
 * Times count from the host's clock when the turn runs.
 *
 *   Schedule.in(1500)
 *   Schedule.every(3600000, 1800000)          // hourly, first in 30 min
 *   Schedule.cron("0 9 * * *").onMissed(Missed.SKIP)
 */
export class Schedule {
  /** Once, this many ms after the turn (0: absent). */
  inMs: u64 = 0;
  /** Once, at this Unix time in ms (0: absent). */
  atUnixMs: u64 = 0;
  /** The period in ms (0: absent). */
  everyMs: u64 = 0;
  /** With everyMs: ms to the first tick (0: one period). */
  firstMs: u64 = 0;
  /** A cron expression ("": absent). */
  cronExpr: string = "";
  /** The missed-tick policy ("": the host's default, catch_up). */
  missed: string = "";
  /** Why the schedule cannot be sent; setReminder refuses it with bad_request. */
  error: string = "";

  /** Once, as soon as possible. */
  static asap(): Schedule {
    return new Schedule();
  }

  /** Once, ms milliseconds after the turn (0: as soon as possible). */
  static in(ms: u64): Schedule {
    const s = new Schedule();
    s.inMs = ms;
    return s;
  }

  /** Once, at the Unix time unixMs (ms); a past time fires as soon as possible. */
  static atUnixMs(unixMs: u64): Schedule {
    const s = new Schedule();
    // 0 would read as "no schedule key"; 1 ms after the epoch is as past.
    s.atUnixMs = max<u64>(unixMs, 1);
    return s;
  }

  /**
   * Every ms milliseconds (at least 1), the first time firstMs after the
   * turn, or one period after it when firstMs is 0 (use 1 for "at once").
   * Ticks stay on the grid first + k * every.
   */
  static every(ms: u64, firstMs: u64 = 0): Schedule {
    const s = new Schedule();
    s.everyMs = ms;
    s.firstMs = firstMs;
    // A zero period would be left out and turn into "once, now".
    if (ms == 0) s.error = "every needs a period of at least 1 ms";
    return s;
  }

  /**
   * At the times of a cron expression, in UTC: five fields (minute hour
   * day-of-month month day-of-week), six with leading seconds, seven with a
   * trailing year, or @yearly, @monthly, @weekly, @daily, @hourly. The host
   * refuses a malformed expression or one that never fires.
   */
  static cron(expr: string): Schedule {
    const s = new Schedule();
    s.cronExpr = expr;
    // An empty text would be left out and turn into "once, now".
    if (expr.length == 0) s.error = "cron needs an expression";
    return s;
  }

  /** Sets the missed-tick policy (Missed.CATCH_UP or Missed.SKIP). */
  onMissed(policy: string): Schedule {
    this.missed = policy;
    return this;
  }
}
