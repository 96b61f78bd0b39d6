// Settings beyond the first token: revoking with confirmation, user management by an admin,
// and what a viewer may and may not do there.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { openBrowser, startServer } from './harness.mjs';

async function signIn(page, { username, password }) {
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('logout').waitFor();
}

test('an admin revokes a token after confirming and manages users; a viewer can neither manage users nor grant more than viewer', async (t) => {
  const server = await startServer(t);
  const browser = await openBrowser(t);
  const { page } = browser;
  page.setDefaultTimeout(15_000);

  // A token made by a script, revoked in the UI.
  const admin = await server.login();
  const created = await server.request('POST', '/api/v1/tokens', { token: admin.access_token, json: { name: 'old-pipeline', role: 'operator' } });
  assert.equal(created.status, 201);
  const secret = created.body.secret;
  assert.equal((await server.request('GET', '/api/v1/me', { token: secret })).status, 200);

  await page.goto(`${server.url}/settings`);
  await signIn(page, server.admin);
  const tokenRow = page.getByTestId('token-row').filter({ hasText: 'old-pipeline' });
  await tokenRow.waitFor();
  assert.equal(await tokenRow.getAttribute('data-status'), 'active');
  await tokenRow.getByTestId('token-revoke').click();
  await browser.snap('01-revoke-confirm');
  await tokenRow.getByTestId('token-revoke-confirm').click();
  await page.locator('[data-testid="token-row"][data-status="revoked"]').filter({ hasText: 'old-pipeline' }).waitFor();
  await page.getByTestId('toast').filter({ hasText: 'revoked' }).first().waitFor();
  assert.equal((await server.request('GET', '/api/v1/me', { token: secret })).status, 401, 'the revoked secret no longer works');
  await browser.snap('02-revoked');

  // The list follows changes made elsewhere (here by a script) without a reload.
  const another = await server.request('POST', '/api/v1/tokens', { token: admin.access_token, json: { name: 'new-pipeline' } });
  assert.equal(another.status, 201);
  await page.getByTestId('token-row').filter({ hasText: 'new-pipeline' }).waitFor();

  // Users: add one, raise its role, disable it after confirming.
  await page.getByTestId('tab-users').click();
  await page.waitForURL(`${server.url}/settings/users`);
  await page.getByTestId('user-row').first().waitFor();
  const password = 'viewer-password-123';
  await page.getByTestId('user-name').fill('dana');
  await page.getByTestId('user-password').fill(password);
  await page.getByTestId('user-role').selectOption('viewer');
  await page.getByTestId('user-create').click();
  const dana = page.locator('[data-testid="user-row"][data-username="dana"]');
  await dana.waitFor();
  await dana.getByTestId('user-role-select').selectOption('operator');
  await page.getByTestId('toast').filter({ hasText: 'dana is now operator' }).waitFor();
  await browser.snap('03-users');

  // Dana, signed in elsewhere, may use tokens only up to operator.
  const danaApi = await server.login({ username: 'dana', password });
  const tooHigh = await server.request('POST', '/api/v1/tokens', { token: danaApi.access_token, json: { name: 'x', role: 'admin' } });
  assert.ok([403, 422].includes(tooHigh.status), `a token above one's role is refused (got ${tooHigh.status})`);

  await dana.getByTestId('user-disable').click();
  await dana.getByTestId('user-disable-confirm').click();
  await page.locator('[data-testid="user-row"][data-username="dana"]').getByTestId('user-enable').waitFor();
  assert.equal((await server.request('GET', '/api/v1/me', { token: danaApi.access_token })).status, 401, 'a disabled user is locked out at once');
  await page.locator('[data-testid="user-row"][data-username="dana"]').getByTestId('user-enable').click();
  await page.locator('[data-testid="user-row"][data-username="dana"]').getByTestId('user-disable').waitFor();

  // A viewer: no Users tab, and only the viewer role on offer for tokens.
  await page.getByTestId('logout').click();
  await page.getByTestId('login-username').waitFor();
  const users = await server.request('GET', '/api/v1/users', { token: admin.access_token });
  const danaId = users.body.items.find((u) => u.username === 'dana').id;
  const demoted = await server.request('PATCH', `/api/v1/users/${danaId}`, { token: admin.access_token, json: { role: 'viewer' } });
  assert.equal(demoted.status, 200);
  await signIn(page, { username: 'dana', password });
  await page.getByTestId('nav-settings').click();
  await page.getByTestId('token-role').waitFor();
  assert.equal(await page.getByTestId('tab-users').count(), 0);
  assert.deepEqual(await page.getByTestId('token-role').locator('option').allTextContents(), ['viewer']);
  await browser.snap('04-viewer-settings');
});
