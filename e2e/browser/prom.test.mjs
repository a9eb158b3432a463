// Tests of the dashboard's Prometheus parser and turn statistics
// (gateway/ui/prom.js), with node's test runner: node --test prom.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMetrics, turnStats, quantile, activationsByType } from '../../gateway/ui/prom.js';

const scrape = (turns, buckets, sum) => `# HELP wactor_turns_total Turns by type, method and outcome.
# TYPE wactor_turns_total counter
wactor_turns_total{type="counter",method="add",outcome="ok"} ${turns.ok}
wactor_turns_total{type="counter",method="add",outcome="trapped"} ${turns.trapped}
wactor_turns_total{method="get",outcome="ok",type="counter"} 4
# TYPE wactor_turn_duration_seconds histogram
wactor_turn_duration_seconds_bucket{type="counter",method="add",le="0.001"} ${buckets[0]}
wactor_turn_duration_seconds_bucket{type="counter",method="add",le="0.01"} ${buckets[1]}
wactor_turn_duration_seconds_bucket{type="counter",method="add",le="+Inf"} ${buckets[2]}
wactor_turn_duration_seconds_sum{type="counter",method="add"} ${sum}
wactor_turn_duration_seconds_count{type="counter",method="add"} ${buckets[2]}
wactor_activations{type="counter"} 3
`;

test('parse: labels, escapes, special values, timestamps, comments', () => {
  const m = parseMetrics(`# a comment
a_total 1
b{x="q\\"uote",y="back\\\\slash",z="new\\nline",} +Inf 1700000000000
c{} NaN
d -Inf
e 1.5e-3
`);
  assert.deepEqual(m.get('a_total'), [{ labels: {}, value: 1 }]);
  assert.deepEqual(m.get('b')[0].labels, { x: 'q"uote', y: 'back\\slash', z: 'new\nline' });
  assert.equal(m.get('b')[0].value, Infinity);
  assert.ok(Number.isNaN(m.get('c')[0].value));
  assert.equal(m.get('d')[0].value, -Infinity);
  assert.equal(m.get('e')[0].value, 0.0015);
});

test('parse: a bad line names its number', () => {
  assert.throws(() => parseMetrics('ok 1\nbad{x=1} 2\n'), /metrics line 2: label without ="value"/);
  assert.throws(() => parseMetrics('x{y="open} 1'), /line 1: unterminated label value/);
  assert.throws(() => parseMetrics('x abc'), /line 1: bad value "abc"/);
  assert.throws(() => parseMetrics('{} 1'), /line 1: no metric name/);
});

test('quantile interpolates inside the bucket, as histogram_quantile does', () => {
  const b = new Map([[0.001, 50], [0.01, 100], [Infinity, 100]]);
  assert.equal(quantile(0.5, b), 0.001);
  assert.ok(Math.abs(quantile(0.95, b) - 0.0091) < 1e-12);
  assert.equal(quantile(0.99, new Map([[0.001, 1], [Infinity, 10]])), 0.001, 'beyond the last finite bound');
  assert.ok(Number.isNaN(quantile(0.5, new Map([[Infinity, 0]]))));
});

test('turnStats: rates and windows between two scrapes', () => {
  const first = parseMetrics(scrape({ ok: 10, trapped: 0 }, [10, 10, 10], 0.005));
  const rows0 = turnStats(null, first, 0);
  assert.equal(rows0.length, 2);
  const add0 = rows0.find((r) => r.method === 'add');
  assert.equal(add0.rate, null, 'no rate from one scrape');
  assert.equal(add0.sinceStart, true);
  assert.equal(add0.turns, 10);
  assert.equal(add0.meanSeconds, 0.0005);

  // 2 s later: 20 more turns, 5 of them trapped, 10 slower ones.
  const second = parseMetrics(scrape({ ok: 25, trapped: 5 }, [20, 30, 30], 0.105));
  const add = turnStats(first, second, 2).find((r) => r.method === 'add');
  assert.equal(add.rate, 10);
  assert.equal(add.turns, 30);
  assert.equal(add.errors, 5);
  assert.equal(add.errorRate, 0.25);
  assert.equal(add.sinceStart, false);
  assert.ok(Math.abs(add.meanSeconds - 0.005) < 1e-12);
  assert.ok(Math.abs(add.p95Seconds - 0.0091) < 1e-12);
  const get = turnStats(first, second, 2).find((r) => r.method === 'get');
  assert.equal(get.rate, 0);
  assert.equal(get.sinceStart, true, 'no turns in the window: since start');

  // A restart: the counters went down, so they count from zero.
  const restarted = parseMetrics(scrape({ ok: 2, trapped: 0 }, [2, 2, 2], 0.001));
  assert.equal(turnStats(second, restarted, 2).find((r) => r.method === 'add').rate, 1);

  assert.deepEqual([...activationsByType(second)], [['counter', 3]]);
});
