// The live feed's contract from the browser's side: the first message is the hello with the
// access token, and after a dropped connection the app reconnects with the last seq it saw,
// so what happened meanwhile is replayed rather than lost.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { eventually, openBrowser, startServer } from './harness.mjs';

test('after a dropped connection the live feed resumes from the last seq seen and replays what was missed', async (t) => {
  const server = await startServer(t);
  const browser = await openBrowser(t);
  const { page } = browser;
  page.setDefaultTimeout(15_000);

  // Sit between the page and the server to watch (and, once, hold) the traffic.
  const connections = [];
  let releaseSecondHello;
  const secondHelloHeld = new Promise((r) => { releaseSecondHello = r; });
  await page.routeWebSocket(/\/api\/v1\/stream$/, (ws) => {
    const conn = { ws, hello: null, events: [] };
    const index = connections.push(conn) - 1;
    const upstream = ws.connectToServer();
    ws.onMessage(async (message) => {
      conn.hello ??= JSON.parse(message);
      if (index === 1) await secondHelloHeld;
      upstream.send(message);
    });
    upstream.onMessage((message) => {
      conn.events.push(JSON.parse(message));
      ws.send(message);
    });
  });

  await page.goto(`${server.url}/audit`);
  await page.getByTestId('login-username').fill(server.admin.username);
  await page.getByTestId('login-password').fill(server.admin.password);
  await page.getByTestId('login-submit').click();
  await page.locator('[data-testid="live-indicator"][data-state="live"]').waitFor();

  await eventually(() => connections[0]?.hello, { message: 'the first hello' });
  const first = connections[0];
  const session = await page.evaluate(() => JSON.parse(localStorage.getItem('flightdeck.session')));
  assert.equal(first.hello.token, session.access_token, 'the hello carries the access token');
  assert.equal(first.hello.since, null, 'a fresh page asks for live events only');

  // One event over the first connection.
  const admin = await server.login();
  const before = await server.request('POST', '/api/v1/tokens', { token: admin.access_token, json: { name: 'before-the-drop' } });
  assert.equal(before.status, 201);
  await eventually(() => first.events.some((e) => e.type === 'audit.created' && e.data.target_id === before.body.token.id), { message: 'the first event' });
  const lastSeq = Math.max(...first.events.map((e) => e.seq));

  // The connection drops; something happens before the app is back.
  await first.ws.close({ code: 4000, reason: 'dropped by the test' });
  await page.locator('[data-testid="live-indicator"][data-state="reconnecting"]').waitFor();
  // The app reconnects; its hello is held back while something happens.
  await eventually(() => connections[1]?.hello, { message: 'a reconnect' });
  const missed = await server.request('POST', '/api/v1/tokens', { token: admin.access_token, json: { name: 'while-away' } });
  assert.equal(missed.status, 201);
  releaseSecondHello();

  // The reconnect asks to resume after the last event seen, and the server replays the missed one.
  const second = connections[1];
  assert.equal(second.hello.since, lastSeq);
  await eventually(() => second.events.some((e) => e.type === 'audit.created' && e.data.target_id === missed.body.token.id), { message: 'the replayed event' });
  assert.ok(second.events.every((e) => e.seq > lastSeq), 'nothing already seen is sent again');
  await page.locator('[data-testid="live-indicator"][data-state="live"]').waitFor();
  await page.locator(`[data-testid="audit-row"]:has(.target-id[title="${missed.body.token.id}"])`).waitFor();
  await browser.snap('01-resumed');
});
