// Foundation, end to end through the browser: sign in, live feed, API token created once,
// audit entries arriving live, sign out.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { openBrowser, startServer } from './harness.mjs';

const row = (action) => `[data-testid="audit-row"][data-action="${action}"]`;

test('an admin signs in, creates an API token, watches it in the live audit log, and signs out', async (t) => {
  const server = await startServer(t);
  const browser = await openBrowser(t);
  const { page } = browser;
  page.setDefaultTimeout(15_000);

  // Arrange: the login page.
  await page.goto(server.url);
  await page.getByTestId('login-username').waitFor();
  await browser.snap('01-login');

  // A wrong password is refused with the server's message, and is the only 401 allowed.
  browser.expectHttpError(401, '/api/v1/auth/login');
  await page.getByTestId('login-username').fill(server.admin.username);
  await page.getByTestId('login-password').fill('not-the-password');
  await page.getByTestId('login-submit').click();
  const loginError = page.getByTestId('login-error');
  await loginError.waitFor();
  assert.notEqual((await loginError.textContent()).trim(), '', 'the login error says what went wrong');
  await browser.snap('02-login-error');

  // Act: sign in for real; the shell appears and the live feed connects.
  await page.getByTestId('login-password').fill(server.admin.password);
  await page.getByTestId('login-submit').click();
  await page.locator('[data-testid="live-indicator"][data-state="live"]').waitFor();
  assert.equal(await page.getByTestId('current-role').textContent(), 'admin');
  await browser.snap('03-overview');
  // From here on, navigation stays inside the app (no document load) until the reload below.
  await page.evaluate(() => { window.__sameDocument = true; });

  // Settings: create a token with a lower role and an expiry.
  await page.getByTestId('nav-settings').click();
  await page.waitForURL(`${server.url}/settings`);
  await page.getByTestId('token-name').waitFor();
  assert.equal(await page.getByTestId('token-row').count(), 0, 'a fresh install has no tokens');
  await browser.snap('04-settings-empty');

  await page.getByTestId('token-name').fill('ci-deploy checkout-api');
  await page.getByTestId('token-role').selectOption('deployer');
  await page.getByTestId('token-expiry').fill('30');
  await page.getByTestId('token-create').click();
  const secretBox = page.getByTestId('token-secret');
  await secretBox.waitFor();
  const secret = (await secretBox.textContent()).trim();
  assert.ok(secret.length >= 20, `the secret looks like a secret: ${secret}`);
  await page.getByTestId('token-row').first().waitFor();
  assert.equal(await page.getByTestId('token-row').count(), 1);
  const tokenRow = await page.getByTestId('token-row').first().textContent();
  assert.match(tokenRow, /ci-deploy checkout-api/);
  assert.match(tokenRow, /deployer/);
  assert.ok(!tokenRow.includes(secret), 'the list never shows the secret');
  await page.getByTestId('toast').filter({ hasText: 'created' }).first().waitFor();
  await browser.snap('05-token-created');

  // The secret shown is real: it authenticates as a deployer.
  const meWithSecret = await server.request('GET', '/api/v1/me', { token: secret });
  assert.equal(meWithSecret.status, 200);
  assert.equal(meWithSecret.body.role, 'deployer');
  assert.equal(meWithSecret.body.auth, 'api_token');

  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the nav link did not reload the page');

  // Shown once: dismissed, it is gone, and a reload (which keeps the session) does not bring it back.
  await page.getByTestId('token-secret-done').click();
  await secretBox.waitFor({ state: 'detached' });
  await page.reload();
  await page.getByTestId('token-row').first().waitFor();
  assert.equal(await page.getByTestId('token-secret').count(), 0);
  assert.ok(!(await page.content()).includes(secret), 'the secret is nowhere in the page after a reload');

  // Audit: the token created through the UI is listed.
  await page.getByTestId('nav-audit').click();
  await page.waitForURL(`${server.url}/audit`);
  await page.locator(row('token.create')).first().waitFor();
  assert.equal(await page.locator(row('token.create')).count(), 1);
  await page.locator('[data-testid="live-indicator"][data-state="live"]').waitFor();
  await browser.snap('06-audit');

  // Live: a token created elsewhere (a script, through the API) appears without a reload.
  await page.evaluate(() => { window.__sameDocument = true; });
  const admin = await server.login();
  const created = await server.request('POST', '/api/v1/tokens', {
    token: admin.access_token,
    json: { name: 'created-by-a-script', role: 'viewer' },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const liveRow = page.locator(`${row('token.create')}:has(.target-id[title="${created.body.token.id}"])`);
  await liveRow.waitFor();
  assert.equal(await page.locator(row('token.create')).count(), 2);
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the row arrived without a reload');
  // Newest first: the script's entry is above the UI's.
  const firstRowTarget = await page.getByTestId('audit-row').first().locator('.target-id').getAttribute('title');
  assert.equal(firstRowTarget, created.body.token.id);
  await browser.snap('07-audit-live');

  // The filter applies to live rows too. Filtered to "token.", a user created and then a token
  // created arrive in that order on the feed: once the token's row is shown, the user's entry
  // has been seen and left out.
  await page.getByTestId('audit-filter-action').fill('token.');
  await page.getByTestId('audit-filter-apply').click();
  await page.waitForFunction(() =>
    document.querySelectorAll('[data-testid="audit-row"]').length === 2 &&
    [...document.querySelectorAll('[data-testid="audit-row"]')].every((r) => r.dataset.action.startsWith('token.')));
  const user = await server.request('POST', '/api/v1/users', {
    token: admin.access_token,
    json: { username: 'oncall-viewer', password: 'a-long-enough-password', role: 'viewer' },
  });
  assert.equal(user.status, 201, JSON.stringify(user.body));
  const second = await server.request('POST', '/api/v1/tokens', {
    token: admin.access_token,
    json: { name: 'second-script', expires_in_days: 7 },
  });
  assert.equal(second.status, 201, JSON.stringify(second.body));
  await page.locator(`${row('token.create')}:has(.target-id[title="${second.body.token.id}"])`).waitFor();
  assert.equal(await page.getByTestId('audit-row').count(), 3);
  assert.equal(await page.locator(row('user.create')).count(), 0, 'the filtered view left out the user entry');
  await browser.snap('08-audit-filtered');

  // Dark theme.
  await page.getByTestId('theme-toggle').click();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await browser.snap('09-audit-dark');
  await page.getByTestId('theme-toggle').click();

  // Sign out: back to the login page, and a reload stays signed out.
  await page.getByTestId('logout').click();
  await page.getByTestId('login-username').waitFor();
  assert.equal(await page.getByTestId('live-indicator').count(), 0);
  // (A reload that lands while the login page's info fetch is in flight aborts it; the harness
  // counts such cancellations as the browser doing as told, not as failures.)
  await page.reload();
  await page.getByTestId('login-username').waitFor();
  await browser.snap('10-signed-out');
});
