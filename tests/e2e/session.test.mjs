// Sessions over time: short-lived access tokens are refreshed without the user noticing —
// ahead of expiry, after a 401, and for the live feed — and a session ended elsewhere sends
// the browser back to the login page with a notice.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { eventually, openBrowser, startServer } from './harness.mjs';

// Short enough that several lifetimes pass during the test (the server allows 5 s of leeway).
const CONFIG = '[auth]\naccess_token_ttl_secs = 3\n';

test('expiring access tokens are refreshed silently, and an ended session returns to the login page', async (t) => {
  const server = await startServer(t, { config: CONFIG });
  const browser = await openBrowser(t);
  const { page } = browser;
  page.setDefaultTimeout(15_000);
  const refreshes = [];
  page.on('response', (res) => {
    if (new URL(res.url()).pathname === '/api/v1/auth/refresh') refreshes.push(res.status());
  });
  const stored = () => page.evaluate(() => JSON.parse(localStorage.getItem('flightdeck.session')));

  await page.goto(`${server.url}/audit`);
  await page.getByTestId('login-username').fill(server.admin.username);
  await page.getByTestId('login-password').fill(server.admin.password);
  await page.getByTestId('login-submit').click();
  await page.locator('[data-testid="live-indicator"][data-state="live"]').waitFor();
  await page.getByTestId('audit-row').first().waitFor();
  const first = await stored();

  // Several lifetimes pass: the session is refreshed ahead of expiry (each pair replacing the
  // last in storage), and the feed, which the server closes when its token expires, comes back.
  await eventually(() => refreshes.filter((s) => s === 200).length >= 3, { timeout: 30_000, message: 'three refreshes' });
  assert.deepEqual(refreshes.filter((s) => s !== 200), [], 'no refresh failed');
  const later = await stored();
  assert.notEqual(later.refresh_token, first.refresh_token, 'the refresh token rotated');
  await page.locator('[data-testid="live-indicator"][data-state="live"]').waitFor();

  // The feed still delivers after those reconnects.
  const admin = await server.login();
  const created = await server.request('POST', '/api/v1/tokens', { token: admin.access_token, json: { name: 'after-refreshes' } });
  assert.equal(created.status, 201);
  await page.locator(`[data-testid="audit-row"][data-action="token.create"]:has(.target-id[title="${created.body.token.id}"])`).waitFor();
  await browser.snap('01-audit-after-refreshes');

  // A refused access token (here: corrupted in storage) is refreshed on the 401 and the call
  // retried: the reload lands on the page, signed in.
  browser.expectHttpError(401, '/api/v1/me');
  const meRefused = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/me' && r.status() === 401);
  // Corrupt and reload in one task, so a refresh in flight cannot store a good token between.
  await page.evaluate(() => {
    const s = JSON.parse(localStorage.getItem('flightdeck.session'));
    s.access_token = 'not-a-valid-token';
    s.expires_at_ms = Date.now() + 10 * 60_000;
    localStorage.setItem('flightdeck.session', JSON.stringify(s));
    location.reload();
  });
  await meRefused;
  await page.getByTestId('audit-row').first().waitFor();
  await page.locator('[data-testid="live-indicator"][data-state="live"]').waitFor();
  assert.equal(await page.getByTestId('current-role').textContent(), 'admin');

  // The session is ended elsewhere (as "log out" on the API would): the next refresh is
  // refused, and the browser returns to the login page and says why. Until the page notices,
  // every call it makes is refused too, and which calls those are depends on timing: with 3 s
  // tokens the live feed reopens every few seconds, and each reopening reloads the page's lists
  // and the catalog (services, environments). So any 401 is expected from here on; what must
  // hold is the outcome below.
  browser.expectHttpError(401, '/api/v1/');
  const session = await stored();
  const ended = await server.request('POST', '/api/v1/auth/logout', { token: session.access_token, json: {} });
  assert.equal(ended.status, 204, JSON.stringify(ended.body));
  await page.getByTestId('login-username').waitFor({ timeout: 20_000 });
  await page.getByTestId('toast').filter({ hasText: 'session has ended' }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('flightdeck.session')), null);
  await browser.snap('02-session-ended');
});
