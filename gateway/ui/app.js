// The wactor dashboard: each page (body[data-page]) polls the control
// plane's routes every POLL_MS and redraws what it shows. Data is put in
// the page with textContent only, never parsed as HTML. The browser
// authenticates with the session cookie the login form set; requests that
// change something carry the session's CSRF value (docs/dashboard.md).

import { parseMetrics, turnStats, activationsByType } from './prom.js';

const POLL_MS = 2000;
const page = document.body.dataset.page;
const statusLine = document.getElementById('status');

// el makes an element with attributes (on* keys become listeners) and
// children (strings become text).
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'className') e.className = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function fillBody(table, rows, empty) {
  const body = table.tBodies[0];
  if (rows.length === 0) rows = [el('tr', {}, el('td', { colspan: table.tHead.rows[0].cells.length, className: 'muted empty' }, empty))];
  body.replaceChildren(...rows);
}

function csrf() {
  const m = document.cookie.match(/(?:^|;\s*)wactor_csrf=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : '';
}

// HTTPError is an answer other than 2xx, with the API's error body.
class HTTPError extends Error {
  constructor(status, body) {
    const e = body && body.error;
    super(e ? `${e.code}: ${e.message}` : `HTTP ${status}`);
    this.status = status;
  }
}

// parseJSON reads JSON keeping integers beyond 2^53 exact where the
// browser can (JSON.rawJSON), so that state and payloads show as stored.
function parseJSON(text) {
  if (typeof JSON.rawJSON !== 'function') return JSON.parse(text);
  return JSON.parse(text, (k, v, ctx) =>
    typeof v === 'number' && !Number.isSafeInteger(v) && ctx && /^-?\d+$/.test(ctx.source) ? JSON.rawJSON(ctx.source) : v);
}

// api fetches a route of the node. A 401 sends the browser to the login
// page; another error throws HTTPError.
async function api(path, { method = 'GET', raw = false } = {}) {
  const headers = { Accept: raw ? 'text/plain' : 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['X-Wactor-CSRF'] = csrf();
  const resp = await fetch(path, { method, headers, credentials: 'same-origin', cache: 'no-store' });
  const text = await resp.text();
  if (resp.status === 401) {
    location.assign('/ui/login');
    throw new HTTPError(401, null);
  }
  let body = null;
  if (!raw || !resp.ok) {
    try { body = parseJSON(text); } catch { body = null; }
  }
  if (!resp.ok) throw new HTTPError(resp.status, body);
  return raw ? text : body;
}

function setStatus(text, bad = false) {
  statusLine.textContent = text;
  statusLine.classList.toggle('error', bad);
}

// poll runs refresh now and every POLL_MS after the last one ended.
// document.body.dataset.polls counts the refreshes done, for tests.
function poll(refresh) {
  let timer = null;
  let polls = 0;
  const run = async () => {
    clearTimeout(timer);
    try {
      await refresh();
      setStatus(`Updated ${new Date().toLocaleTimeString()}; refreshes every ${POLL_MS / 1000} s.`);
    } catch (e) {
      setStatus(`Could not refresh: ${e.message}`, true);
    }
    document.body.dataset.polls = String(++polls);
    timer = setTimeout(run, POLL_MS);
  };
  run();
  return run; // call to refresh now
}

const actorLink = (ref) => {
  const i = ref.indexOf('/');
  if (i < 0) return ref;
  const q = new URLSearchParams({ type: ref.slice(0, i), id: ref.slice(i + 1) });
  return el('a', { href: `/ui/actor?${q}` }, ref);
};
const json = (v) => el('code', {}, JSON.stringify(v));
const fmtNum = (n, digits = 1) => (n === null || n === undefined || Number.isNaN(n) ? '—' : n.toFixed(digits));
const fmtMs = (s) => (s === null || Number.isNaN(s) ? '—' : `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms`);
const fmtPct = (f) => (f === null ? '—' : `${(f * 100).toFixed(1)} %`);

function payloadCell(r, field = 'payload') {
  if (r[`${field}_omitted`]) return el('td', { className: 'muted' }, `left out (${r[`${field}_size`]} bytes)`);
  if (r[`${field}_cbor`]) return el('td', {}, el('code', { title: 'CBOR with no JSON form, base64' }, `cbor:${r[`${field}_cbor`]}`));
  return el('td', {}, json(r[field]));
}

// ---- overview

async function overview() {
  const typesT = document.getElementById('types');
  const turnsT = document.getElementById('turns');
  const actsT = document.getElementById('activations');
  const note = document.getElementById('metrics-note');
  let prev = null, prevAt = 0;
  poll(async () => {
    const [types, acts] = await Promise.all([api('/v1/types'), api('/v1/actors')]);
    let stats = null, gauge = null;
    try {
      const text = await api('/metrics', { raw: true });
      const now = performance.now();
      const cur = parseMetrics(text);
      stats = turnStats(prev, cur, (now - prevAt) / 1000);
      gauge = activationsByType(cur);
      prev = cur; prevAt = now;
      note.textContent = `From /metrics (${cur.size} series names).`;
      note.classList.remove('error');
    } catch (e) {
      prev = null;
      note.textContent = e.status === 404
        ? 'Metrics unavailable: this node does not serve /metrics (404), so there are no turn rates, errors or latencies.'
        : `Metrics unavailable: ${e.message}`;
      note.classList.add('error');
    }
    const live = new Map();
    for (const a of acts.activations) live.set(a.type, (live.get(a.type) || 0) + 1);
    const byType = new Map();
    for (const s of stats || []) {
      const t = byType.get(s.type) || { rate: 0, errors: 0 };
      t.rate += s.rate || 0; t.errors += s.errors;
      byType.set(s.type, t);
    }
    fillBody(typesT, types.types.map((t) => el('tr', { 'data-type': t.name },
      el('td', {}, t.name),
      el('td', { className: 'mono' }, t.source),
      el('td', { className: 'mono', title: t.module_sha256 }, t.module_sha256.slice(0, 12)),
      el('td', { className: 'num' }, `${(t.module_size / 1024).toFixed(0)} KiB`),
      el('td', { className: 'num' }, gauge && gauge.has(t.name) ? gauge.get(t.name) : (live.get(t.name) || 0)),
      el('td', { className: 'num' }, stats ? fmtNum(byType.get(t.name)?.rate ?? 0) : '—'),
      el('td', { className: 'num' }, stats ? (byType.get(t.name)?.errors ?? 0) : '—'),
    )), 'No types deployed.');
    // Series that never counted a turn (an "(other)" method made ready
    // ahead) say nothing.
    fillBody(turnsT, (stats || []).filter((s) => s.turns > 0).map((s) => el('tr', { 'data-type': s.type, 'data-method': s.method },
      el('td', {}, s.type), el('td', {}, s.method),
      el('td', { className: 'num' }, s.turns),
      el('td', { className: 'num' }, fmtNum(s.rate)),
      el('td', { className: 'num' }, s.errors),
      el('td', { className: 'num' + (s.errorRate > 0 ? ' bad' : '') }, fmtPct(s.errorRate) + (s.sinceStart ? ' *' : '')),
      el('td', { className: 'num' }, fmtMs(s.meanSeconds) + (s.sinceStart ? ' *' : '')),
      el('td', { className: 'num' }, fmtMs(s.p95Seconds) + (s.sinceStart ? ' *' : '')),
    )), stats ? 'No turns yet.' : 'Metrics unavailable.');
    const shown = acts.activations.slice(0, 200);
    document.getElementById('activation-count').textContent =
      `(${acts.activations.length}${shown.length < acts.activations.length ? `, the first ${shown.length} shown` : ''})`;
    fillBody(actsT, shown.map((a) => el('tr', {}, el('td', {}, a.type), el('td', {}, actorLink(`${a.type}/${a.id}`)))), 'No live activations.');
  });
}

// ---- an actor

function reminderRow(r, withActor) {
  const kind = r.kind === 'every' ? `every ${r.every_ms} ms` : r.kind === 'cron' ? `cron ${r.cron}` : 'once';
  return el('tr', { 'data-name': r.name },
    withActor ? el('td', {}, actorLink(r.actor)) : null,
    el('td', {}, r.name), el('td', {}, r.method), el('td', {}, kind),
    el('td', { title: r.due }, new Date(r.due_unix_ms).toLocaleString()),
    el('td', {}, r.missed), payloadCell(r));
}

async function actor() {
  const q = new URLSearchParams(location.search);
  const type = q.get('type') || '', id = q.get('id') || '';
  const form = document.querySelector('header form[action="/ui/actor"]');
  form.elements.type.value = type; form.elements.id.value = id;
  const ref = `${type}/${id}`;
  document.getElementById('actor-ref').textContent = ref;
  document.title = `wactor: ${ref}`;
  if (!type || !id) {
    setStatus('Name an actor: its type and id, in the form above.', true);
    return;
  }
  const base = `/v1/actors/${encodeURIComponent(type)}/${encodeURIComponent(id)}`;
  const pre = document.getElementById('state-json');
  const summary = document.getElementById('state-summary');
  const notes = document.getElementById('state-notes');
  const next = document.getElementById('state-next');
  const first = document.getElementById('state-first');
  let cursor = '';
  const refresh = poll(async () => {
    const [st, rem] = await Promise.all([
      api(`${base}/state${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`),
      api(`${base}/reminders`),
    ]);
    const obj = {};
    const left = [];
    for (const e of st.state) {
      if (e.value_omitted) { obj[e.key] = null; left.push(`${e.key} (${e.size} bytes) is left out: longer than 64 KiB`); }
      else if (e.value_base64 !== undefined) { obj[e.key] = `base64:${e.value_base64}`; left.push(`${e.key} is not CBOR with a JSON form: shown as base64`); }
      else obj[e.key] = e.value;
    }
    pre.textContent = JSON.stringify(obj, null, 2);
    summary.textContent = `Version ${st.version}: ${st.keys} key${st.keys === 1 ? '' : 's'}, ${st.bytes} byte${st.bytes === 1 ? '' : 's'}` +
      (st.state.length < st.keys ? `; keys ${cursor ? `after ${JSON.stringify(cursor)}` : 'from the first'}, ${st.state.length} shown` : '') +
      '. Read only: the state the last committed turn left.';
    notes.textContent = left.join('; ');
    next.hidden = st.next_cursor === null;
    next.dataset.cursor = st.next_cursor || '';
    first.hidden = cursor === '';
    fillBody(document.getElementById('reminders'), rem.reminders.map((r) => reminderRow(r, false)), 'No reminders.');
  });
  next.addEventListener('click', () => { cursor = next.dataset.cursor; refresh(); });
  first.addEventListener('click', () => { cursor = ''; refresh(); });
}

// ---- reminders

async function reminders() {
  poll(async () => {
    const rem = await api('/v1/reminders?limit=1000');
    document.getElementById('reminder-count').textContent =
      `${rem.reminders.length}${rem.reminders.length === 1000 ? ' (the first 1000)' : ''} reminder${rem.reminders.length === 1 ? '' : 's'}, the next due first.`;
    fillBody(document.getElementById('reminders'), rem.reminders.map((r) => reminderRow(r, true)), 'No reminders.');
  });
}

// ---- dead letters

// confirmDialog shows text with OK and Cancel and resolves to whether OK
// was chosen.
function confirmDialog(text, ok) {
  const d = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-ok').textContent = ok;
  d.returnValue = '';
  d.showModal();
  return new Promise((resolve) => d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true }));
}

async function deadletters() {
  const table = document.getElementById('deadletters');
  const next = document.getElementById('page-next');
  const first = document.getElementById('page-first');
  let cursor = '';
  let refresh = null;
  const act = async (verb, d) => {
    const what = verb === 'replay'
      ? `Replay dead letter ${d.id}: send ${d.method} to ${d.target} again as a new tell?`
      : `Delete dead letter ${d.id} (${d.method} to ${d.target}) for good?`;
    if (!(await confirmDialog(what, verb === 'replay' ? 'Replay' : 'Delete'))) return;
    try {
      if (verb === 'replay') await api(`/v1/deadletters/${encodeURIComponent(d.id)}/replay`, { method: 'POST' });
      else await api(`/v1/deadletters/${encodeURIComponent(d.id)}`, { method: 'DELETE' });
      await refresh();
      setStatus(`${verb === 'replay' ? 'Replayed' : 'Deleted'} dead letter ${d.id}.`);
    } catch (e) {
      setStatus(`Could not ${verb} dead letter ${d.id}: ${e.message}`, true);
    }
  };
  refresh = poll(async () => {
    const page = await api(`/v1/deadletters?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    document.getElementById('deadletter-summary').textContent =
      `${page.total} dead letter${page.total === 1 ? '' : 's'} kept (${page.total_bytes} bytes); ${page.dropped} dropped by the cap.`;
    fillBody(table, page.deadletters.map((d) => el('tr', { 'data-id': d.id },
      el('td', { className: 'mono' }, d.id), el('td', {}, actorLink(d.target)),
      el('td', {}, d.sender ? actorLink(d.sender) : el('span', { className: 'muted' }, 'outside')),
      el('td', {}, d.method), el('td', { className: 'error' }, d.error),
      el('td', { className: 'num' }, d.attempts), el('td', {}, d.at), payloadCell(d),
      el('td', {},
        el('button', { type: 'button', className: 'replay', onclick: () => act('replay', d) }, 'Replay'), ' ',
        el('button', { type: 'button', className: 'delete danger', onclick: () => act('delete', d) }, 'Delete')),
    )), 'No dead letters.');
    next.hidden = page.next_cursor === null;
    next.dataset.cursor = page.next_cursor || '';
    first.hidden = cursor === '';
  });
  next.addEventListener('click', () => { cursor = next.dataset.cursor; refresh(); });
  first.addEventListener('click', () => { cursor = ''; refresh(); });
}

// ---- members

// members shows GET /v1/cluster: {"clustered", "name", "node", "members":
// [{node, state, http_addr, activations, self, started, updated}]}. A
// node without the route (404) or outside a cluster runs alone.
async function members() {
  const box = document.getElementById('members');
  const single = () => box.replaceChildren(el('p', { className: 'banner', id: 'single-node' },
    'Single node: this wactor runs alone, with no cluster configured.'));
  poll(async () => {
    let c;
    try {
      c = await api('/v1/cluster');
    } catch (e) {
      if (e.status !== 404) throw e;
      return single();
    }
    if (!c.clustered) return single();
    const list = Array.isArray(c.members) ? c.members : [];
    const cols = ['node', 'state', 'http_addr', 'activations', 'started', 'updated'];
    box.replaceChildren(
      el('p', { id: 'cluster-name' }, `Cluster ${c.name || ''}: ${list.length} member${list.length === 1 ? '' : 's'}; this node is ${c.node || '?'}.`),
      el('table', { id: 'member-table' },
        el('thead', {}, el('tr', {}, cols.map((k) => el('th', { className: k === 'activations' ? 'num' : '' }, k.replace('_', ' '))))),
        el('tbody', {}, list.map((m) => el('tr', { 'data-node': m.node, className: m.self ? 'self' : '' },
          cols.map((k) => el('td', { className: k === 'activations' ? 'num' : '' },
            k === 'node' && m.self ? `${m.node} (this node)` : String(m[k] ?? ''))))))),
    );
  });
}

for (const a of document.querySelectorAll('header nav a')) {
  if (a.dataset.nav === page) a.setAttribute('aria-current', 'page');
}
({ overview, actor, reminders, deadletters, members })[page]?.();
