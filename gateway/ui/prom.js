// The Prometheus text format (version 0.0.4), as far as the dashboard
// needs it: samples with labels and values; comments, HELP and TYPE lines
// are skipped, timestamps ignored. And the turn statistics the overview
// shows, computed from two scrapes.

// parseMetrics returns a Map from each sample name to its samples,
// [{labels: {name: value}, value: number}]. A line it cannot read throws
// an Error naming the line.
export function parseMetrics(text) {
  const out = new Map();
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim();
    if (line === '' || line.startsWith('#')) continue;
    const s = parseSample(line, n + 1);
    if (!out.has(s.name)) out.set(s.name, []);
    out.get(s.name).push({ labels: s.labels, value: s.value });
  }
  return out;
}

const nameRE = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const labelNameRE = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseSample(line, lineNo) {
  const fail = (why) => { throw new Error(`metrics line ${lineNo}: ${why}: ${line.slice(0, 200)}`); };
  const m = nameRE.exec(line);
  if (!m) fail('no metric name');
  const name = m[0];
  let i = name.length;
  const labels = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ' || line[i] === ',') i++;
      if (line[i] === '}') { i++; break; }
      const ln = labelNameRE.exec(line.slice(i));
      if (!ln) fail('bad label name');
      i += ln[0].length;
      while (line[i] === ' ') i++;
      if (line[i] !== '=' || line[i + 1] !== '"') fail('label without ="value"');
      i += 2;
      let v = '';
      for (;;) {
        if (i >= line.length) fail('unterminated label value');
        const c = line[i++];
        if (c === '"') break;
        if (c === '\\') {
          const e = line[i++];
          v += e === 'n' ? '\n' : e; // \\ and \" stand for themselves
        } else {
          v += c;
        }
      }
      labels[ln[0]] = v;
    }
  }
  const rest = line.slice(i).trim().split(/\s+/);
  if (rest.length < 1 || rest[0] === '') fail('no value');
  return { name, labels, value: parseValue(rest[0], fail) };
}

function parseValue(s, fail) {
  switch (s) {
    case '+Inf': case 'Inf': return Infinity;
    case '-Inf': return -Infinity;
    case 'NaN': return NaN;
  }
  const v = Number(s);
  if (s === '' || Number.isNaN(v)) fail(`bad value ${JSON.stringify(s)}`);
  return v;
}

// The metric names the overview reads (docs/metrics.md).
export const TURNS = 'wactor_turns_total';
export const DURATION = 'wactor_turn_duration_seconds';
export const ACTIVATIONS = 'wactor_activations';

const key = (l) => `${l.type}\u0000${l.method}`;

// collect sums one scrape's turn figures by type and method:
// {turns, errors, sum, count, buckets: Map(le -> cumulative count)}.
function collect(metrics) {
  const rows = new Map();
  const row = (l) => {
    const k = key(l);
    if (!rows.has(k)) rows.set(k, { type: l.type, method: l.method, turns: 0, errors: 0, sum: 0, count: 0, buckets: new Map() });
    return rows.get(k);
  };
  for (const s of metrics.get(TURNS) || []) {
    const r = row(s.labels);
    r.turns += s.value;
    if (s.labels.outcome !== 'ok') r.errors += s.value;
  }
  for (const s of metrics.get(DURATION + '_sum') || []) row(s.labels).sum += s.value;
  for (const s of metrics.get(DURATION + '_count') || []) row(s.labels).count += s.value;
  for (const s of metrics.get(DURATION + '_bucket') || []) {
    const b = row(s.labels).buckets;
    const le = parseValue(s.labels.le, () => { throw new Error(`bad le ${s.labels.le}`); });
    b.set(le, (b.get(le) || 0) + s.value);
  }
  return rows;
}

// quantile estimates the q-quantile from cumulative buckets (le -> count),
// interpolating linearly inside the bucket it falls in, as Prometheus's
// histogram_quantile does. It returns NaN when there are no observations.
export function quantile(q, buckets) {
  const bs = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  if (bs.length === 0) return NaN;
  const total = bs[bs.length - 1][1];
  if (!(total > 0)) return NaN;
  const rank = q * total;
  let prevLe = 0, prevCount = 0;
  for (const [le, count] of bs) {
    if (count >= rank) {
      if (le === Infinity) return prevLe; // beyond the last finite bound
      if (count === prevCount) return le;
      return prevLe + (le - prevLe) * (rank - prevCount) / (count - prevCount);
    }
    prevLe = le; prevCount = count;
  }
  return prevLe;
}

function minus(a, b) {
  const out = new Map();
  for (const [le, c] of a) out.set(le, Math.max(0, c - (b?.get(le) || 0)));
  return out;
}

// turnStats compares two scrapes taken seconds apart (prev may be null:
// the first scrape) and returns a row per type and method, sorted:
// {type, method, turns, errors, rate, errorRate, meanSeconds, p95Seconds,
// sinceStart}. rate is turns per second over the interval (null without
// prev). errorRate, meanSeconds and p95Seconds are over the interval when
// it had turns, else over all the turns since the node started, and then
// sinceStart is true. A counter that went down (the node restarted) counts
// from zero.
export function turnStats(prev, cur, seconds) {
  const before = prev ? collect(prev) : new Map();
  const rows = [];
  for (const [k, c] of collect(cur)) {
    let p = before.get(k);
    if (p && (c.turns < p.turns || c.count < p.count)) p = undefined; // reset
    const dTurns = p ? c.turns - p.turns : 0;
    const window = prev && p && dTurns > 0;
    const src = window
      ? { turns: dTurns, errors: c.errors - p.errors, sum: c.sum - p.sum, count: c.count - p.count, buckets: minus(c.buckets, p.buckets) }
      : c;
    rows.push({
      type: c.type, method: c.method, turns: c.turns, errors: c.errors,
      rate: prev && seconds > 0 ? (p ? dTurns : c.turns) / seconds : null,
      errorRate: src.turns > 0 ? src.errors / src.turns : null,
      meanSeconds: src.count > 0 ? src.sum / src.count : null,
      p95Seconds: src.count > 0 ? quantile(0.95, src.buckets) : null,
      sinceStart: !window,
    });
  }
  rows.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : a.method < b.method ? -1 : a.method > b.method ? 1 : 0));
  return rows;
}

// activationsByType returns the wactor_activations gauge by type.
export function activationsByType(metrics) {
  const out = new Map();
  for (const s of metrics.get(ACTIVATIONS) || []) out.set(s.labels.type, (out.get(s.labels.type) || 0) + s.value);
  return out;
}
