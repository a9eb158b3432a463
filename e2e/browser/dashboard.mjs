// Drives the wactor dashboard in Debian's headless Chromium against a
// running wactor. e2e/dashboard_test.go starts the node, makes the data
// (types, an actor's state, a reminder, dead letters) and runs
//
//   node dashboard.mjs
//
// with WACTOR_E2E set to a JSON object saying what to expect (see
// `want` below). It prints each step and exits 1 with the reason on the
// first failure. Every wait is bounded.

import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const want = JSON.parse(process.env.WACTOR_E2E || 'null');
if (!want) {
  console.error('dashboard.mjs: set WACTOR_E2E to the JSON of what to expect (e2e/dashboard_test.go does)');
  process.exit(2);
}
// want = {
//   url, token, chromium,           the node, its token, the browser binary
//   types: [names],                 deployed types the overview lists
//   counter: {type, id, n},         an actor whose state is {"n": n}
//   alarm: {type, id, name},        an actor with a reminder of that name
//   replay: {id, target},           a dead letter to replay
//   remove: {id, target},           a dead letter to delete
//   live: {path, body},             a tell (POST path body) that makes a new dead letter
//   metrics: bool,                  whether GET /metrics answers
//   metricsRow: {type, method, path, body},  a row the turns table has, when
//                                   metrics, and an ask (POST path body) that adds to it
//   cluster: {name, node} or null,  the node's cluster (GET /v1/cluster)
//   membersOnly: bool               after logging in, check only the members
//   shots: dir or ""                where to save screenshots
//   overviewOnly: bool              stop after the overview (the other
//                                   pages do not depend on what it tests)
// }

const TIMEOUT = 15000; // any one wait, in ms
const step = (s) => console.log(`dashboard.mjs: ${s}`);

const profile = mkdtempSync(join(tmpdir(), 'wactor-chromium-'));
const problems = [];
let ctx;
try {
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: want.chromium,
    headless: true,
    timeout: 60000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  ctx.setDefaultTimeout(TIMEOUT);
  await run(ctx);
  if (problems.length) throw new Error(`the pages reported:\n  ${problems.join('\n  ')}`);
  step('PASS');
} catch (e) {
  console.error(`dashboard.mjs: FAIL: ${e.stack || e}`);
  const page = ctx?.pages()[0];
  if (page) {
    console.error(`dashboard.mjs: the page was ${page.url()}:\n${(await page.content().catch(() => '')).slice(0, 4000)}`);
    await shot(page, 'failure').catch(() => {});
  }
  process.exitCode = 1;
} finally {
  await ctx?.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}

function check(ok, what) {
  if (!ok) throw new Error(what);
}

async function shot(page, name) {
  if (want.shots) await page.screenshot({ path: join(want.shots, `${name}.png`), fullPage: true });
}

// rowsText returns the text of each row of the table's body.
async function rowsText(page, table) {
  return page.locator(`${table} tbody tr`).allInnerTexts();
}

async function run(ctx) {
  const page = ctx.pages()[0] || await ctx.newPage();
  // A script error or a Content-Security-Policy violation fails the test.
  page.on('pageerror', (e) => problems.push(`script error on ${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 40[14]/.test(m.text())) problems.push(`console error on ${page.url()}: ${m.text()}`);
  });
  const u = (p) => new URL(p, want.url).href;
  const secret = [want.counter.id, want.replay?.id, want.remove?.id, ...want.types].filter(Boolean);

  // Refused without the token: every page answers 401 with the login form
  // and shows none of the node's data; so do the routes the pages read.
  for (const p of ['/ui/', `/ui/actor?type=${want.counter.type}&id=${encodeURIComponent(want.counter.id)}`, '/ui/reminders', '/ui/deadletters', '/ui/members', '/ui/app.js']) {
    const resp = await page.goto(u(p));
    check(resp.status() === 401, `GET ${p} without the token answered ${resp.status()}, want 401`);
    const html = await resp.text();
    for (const s of secret) check(!html.includes(s), `GET ${p} without the token shows ${JSON.stringify(s)}`);
    check(await page.locator('form[action="/ui/login"] input[name="token"]').count() === 1, `GET ${p} without the token shows no login form`);
  }
  for (const p of ['/v1/types', '/v1/deadletters', `/v1/actors/${want.counter.type}/${encodeURIComponent(want.counter.id)}/state`]) {
    const resp = await ctx.request.get(u(p));
    check(resp.status() === 401, `GET ${p} in the browser without the token answered ${resp.status()}, want 401`);
  }
  step('every page and data route refuses a browser without the token');

  // A wrong token is refused, and leaves no session.
  await page.goto(u('/ui/login'));
  await page.fill('#token', 'not-the-token');
  await Promise.all([page.waitForURL(u('/ui/login')), page.click('button[type="submit"]')]);
  await page.getByRole('alert').filter({ hasText: "not this node's token" }).waitFor();
  check((await ctx.cookies()).every((c) => c.name !== 'wactor_session'), 'a wrong token got a session cookie');
  check((await page.goto(u('/ui/'))).status() === 401, 'the overview opened after a wrong token');
  step('a wrong token is refused');

  // Log in.
  await page.fill('#token', want.token);
  await Promise.all([page.waitForURL(u('/ui/')), page.click('button[type="submit"]')]);
  const session = (await ctx.cookies()).find((c) => c.name === 'wactor_session');
  check(session && session.httpOnly && session.sameSite === 'Strict', `the session cookie is ${JSON.stringify(session)}; want HttpOnly, SameSite=Strict`);
  check(!session.value.includes(want.token), 'the session cookie holds the token');
  check(await page.evaluate(() => document.cookie.includes('wactor_session')) === false, "the page's script can read the session cookie");
  step('logged in');

  if (want.membersOnly) return members(page, u);

  // Overview: the types, their live activations, metrics or the notice.
  for (const t of want.types) await page.locator(`#types tbody tr[data-type="${t}"]`).waitFor();
  const typeRows = await rowsText(page, '#types');
  check(typeRows.length === want.types.length, `the overview lists ${typeRows.length} types, want ${want.types.length}: ${typeRows.join(' | ')}`);
  const counterRow = await page.locator(`#types tbody tr[data-type="${want.counter.type}"]`).innerText();
  check(/\b[0-9a-f]{12}\b/.test(counterRow), `the ${want.counter.type} row shows no module hash: ${counterRow}`);
  await page.locator('#activations tbody a', { hasText: `${want.counter.type}/${want.counter.id}` }).waitFor();
  if (want.metrics) {
    const row = page.locator(`#turns tbody tr[data-type="${want.metricsRow.type}"][data-method="${want.metricsRow.method}"]`);
    await row.waitFor();
    const cells = await row.locator('td').allInnerTexts();
    check(Number(cells[2]) >= 1, `the turns of ${want.metricsRow.type} ${want.metricsRow.method}: ${cells.join(' | ')}`);
    check(/ms/.test(cells[6]), `no mean latency for ${want.metricsRow.type} ${want.metricsRow.method}: ${cells.join(' | ')}`);
    // Live: turns made now show up as a rate, without a reload.
    const turnsBefore = Number(cells[2]);
    for (let i = 0; i < 20; i++) {
      const r = await ctx.request.post(u(want.metricsRow.path), { data: want.metricsRow.body, headers: { 'Content-Type': 'application/json' } });
      check(r.status() === 200, `POST ${want.metricsRow.path} answered ${r.status()}`);
    }
    await page.waitForFunction(([sel, n]) => {
      const tds = document.querySelectorAll(`${sel} td`);
      return tds.length > 3 && Number(tds[2].textContent) >= n && Number(tds[3].textContent) > 0;
    }, [`#turns tbody tr[data-type="${want.metricsRow.type}"][data-method="${want.metricsRow.method}"]`, turnsBefore + 20], { timeout: TIMEOUT });
    const live = await row.locator('td').allInnerTexts();
    check(/\d ms( \*)?$/.test(live[6]) && /\d ms( \*)?$/.test(live[7]), `latencies over the last poll: ${live.join(' | ')}`);
    check(await page.locator('#turns tbody tr', { hasText: '(other)' }).count() === 0, 'the turns table lists series without turns');
    step(`overview: ${want.types.length} types, live activations; after 20 turns, ${want.metricsRow.type} ${want.metricsRow.method}: ${live.join(' | ')}`);
  } else {
    await page.locator('#metrics-note', { hasText: 'Metrics unavailable' }).waitFor();
    await page.locator('#turns tbody td', { hasText: 'Metrics unavailable.' }).waitFor();
    step(`overview: ${want.types.length} types and live activations; says "metrics unavailable" (no /metrics)`);
  }
  await shot(page, 'overview');
  if (want.overviewOnly) return;

  // From the overview to the actor: its state as JSON.
  await Promise.all([page.waitForURL(/\/ui\/actor\?/), page.locator('#activations tbody a', { hasText: `${want.counter.type}/${want.counter.id}` }).click()]);
  await page.locator('#state-json').filter({ hasText: `"n": ${want.counter.n}` }).waitFor();
  const state = JSON.parse(await page.locator('#state-json').innerText());
  check(JSON.stringify(state) === JSON.stringify({ n: want.counter.n }), `the state of ${want.counter.type}/${want.counter.id} shows ${JSON.stringify(state)}`);
  await page.locator('#state-summary', { hasText: 'Read only' }).waitFor();
  await page.locator('#reminders tbody td.empty', { hasText: 'No reminders.' }).waitFor();
  step(`actor page: ${want.counter.type}/${want.counter.id} state ${JSON.stringify(state)}`);
  await shot(page, 'actor');

  // The header's form opens another actor: its reminder.
  await page.fill('header input[name="type"]', want.alarm.type);
  await page.fill('header input[name="id"]', want.alarm.id);
  await Promise.all([page.waitForURL(/type=/), page.click('header form[action="/ui/actor"] button')]);
  await page.locator(`#reminders tbody tr[data-name="${want.alarm.name}"]`).waitFor();
  step(`actor page: ${want.alarm.type}/${want.alarm.id} has its reminder ${want.alarm.name}`);

  // Reminders of every actor.
  await page.click('nav a[data-nav="reminders"]');
  await page.waitForURL(u('/ui/reminders'));
  const rem = page.locator(`#reminders tbody tr[data-name="${want.alarm.name}"]`);
  await rem.waitFor();
  const remText = await rem.innerText();
  check(remText.includes(`${want.alarm.type}/${want.alarm.id}`), `the reminders page row: ${remText}`);
  step(`reminders page: ${remText.replace(/\s+/g, ' ')}`);
  await shot(page, 'reminders');

  // Dead letters: both listed; a cancelled replay changes nothing; a
  // confirmed one takes the letter from the list; so does a delete.
  await page.click('nav a[data-nav="deadletters"]');
  await page.waitForURL(u('/ui/deadletters'));
  const row = (id) => page.locator(`#deadletters tbody tr[data-id="${id}"]`);
  await row(want.replay.id).waitFor();
  await row(want.remove.id).waitFor();
  check((await row(want.replay.id).innerText()).includes(want.replay.target), 'the dead letter row does not name its target');
  await shot(page, 'deadletters');

  await row(want.replay.id).locator('button.replay').click();
  await page.locator('#confirm[open]').waitFor();
  check((await page.locator('#confirm-text').innerText()).includes(want.replay.id), 'the confirmation does not name the letter');
  await page.click('#confirm-cancel');
  await page.locator('#confirm[open]').waitFor({ state: 'detached' });
  await page.waitForFunction(() => Number(document.body.dataset.polls) >= 2, null, { timeout: TIMEOUT });
  check(await row(want.replay.id).count() === 1, 'a cancelled replay took the letter away');
  step('dead letters: a cancelled replay leaves the letter');

  await row(want.replay.id).locator('button.replay').click();
  await page.locator('#confirm[open]').waitFor();
  await shot(page, 'confirm');
  await page.click('#confirm-ok');
  await row(want.replay.id).waitFor({ state: 'detached' });
  await page.locator('#status', { hasText: `Replayed dead letter ${want.replay.id}` }).waitFor();
  step(`dead letters: replayed ${want.replay.id}, gone from the list`);

  await row(want.remove.id).locator('button.delete').click();
  await page.locator('#confirm[open]').waitFor();
  await page.click('#confirm-ok');
  await row(want.remove.id).waitFor({ state: 'detached' });
  step(`dead letters: deleted ${want.remove.id}, gone from the list`);

  // Live: a letter made now shows up without a reload.
  const before = await page.evaluate(() => Number(document.body.dataset.polls));
  const tell = await ctx.request.post(u(want.live.path), { data: want.live.body, headers: { Prefer: 'respond-async', 'Content-Type': 'application/json' } });
  check(tell.status() === 202, `the tell answered ${tell.status()}`);
  await page.locator('#deadletters tbody tr[data-id]', { hasText: want.live.target }).waitFor();
  const after = await page.evaluate(() => Number(document.body.dataset.polls));
  check(after > before, 'the new letter appeared without a poll');
  step(`dead letters: a new one appeared live (after ${after - before} polls, no reload)`);

  await members(page, u);

  // Log out: the pages are refused again.
  await Promise.all([page.waitForURL(u('/ui/login')), page.click('#logout')]);
  check((await page.goto(u('/ui/deadletters'))).status() === 401, 'the dead letters page opened after logging out');
  step('logged out: refused again');
}

// members checks the members page: the cluster's nodes, this one marked,
// or "single node".
async function members(page, u) {
  await page.click('nav a[data-nav="members"]');
  await page.waitForURL(u('/ui/members'));
  if (want.cluster) {
    const self = page.locator(`#member-table tbody tr[data-node="${want.cluster.node}"]`, { hasText: '(this node)' });
    await self.waitFor();
    await page.locator('#cluster-name', { hasText: `Cluster ${want.cluster.name}` }).waitFor();
    step(`members: ${(await self.innerText()).replace(/\s+/g, ' ')}`);
  } else {
    await page.locator('#single-node', { hasText: 'Single node' }).waitFor();
    step('members: "single node"');
  }
  await shot(page, 'members');
}
