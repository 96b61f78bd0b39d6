// The catalog managed in the browser, and what it changes elsewhere: an empty Overview that
// says how to start, services and environments created in Settings → Catalog appearing in the
// matrix live, a locked environment refusing a deploy with the server's reason, and a
// deployment that waits for CI being cancelled and marked bad; a viewer sees it all but is
// offered no action. In the dark theme, on purpose.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { openBrowser, startServer } from './harness.mjs';

test('an admin builds the catalog in Settings, a locked environment refuses deploys with its reason, a waiting deployment is cancelled and marked bad, and a viewer is offered no actions', async (t) => {
  const server = await startServer(t);
  const browser = await openBrowser(t, { colorScheme: 'dark' });
  const { page } = browser;
  page.setDefaultTimeout(15_000);

  await page.goto(server.url);
  await page.getByTestId('login-username').fill(server.admin.username);
  await page.getByTestId('login-password').fill(server.admin.password);
  await page.getByTestId('login-submit').click();
  await page.locator('[data-testid="live-indicator"][data-state="live"]').waitFor();

  // Nothing in the catalog: the Overview explains where to add things.
  await page.getByTestId('empty-catalog-link').waitFor();
  await browser.snap('01-overview-empty');
  await page.getByTestId('empty-catalog-link').click();
  await page.waitForURL(`${server.url}/settings/catalog`);

  // A service and a protected environment, through the forms.
  await page.getByTestId('service-new').click();
  await page.getByTestId('service-slug').fill('billing');
  await page.getByTestId('service-name').fill('Billing');
  await page.getByTestId('service-team').fill('payments');
  await page.getByTestId('service-repos').fill('acme/billing');
  await page.getByTestId('service-save').click();
  await page.locator('[data-testid="service-row"][data-slug="billing"]').waitFor();
  await page.getByTestId('environment-new').click();
  await page.getByTestId('environment-slug').fill('prod');
  await page.getByTestId('environment-name').fill('Production');
  await page.getByTestId('environment-rank').fill('30');
  await page.getByTestId('environment-aliases').fill('production, live');
  await page.getByTestId('environment-protected').check();
  await page.getByTestId('environment-save').click();
  const prodRow = page.locator('[data-testid="environment-row"][data-slug="prod"]');
  await prodRow.waitFor();

  // Lock it with a reason.
  await prodRow.getByTestId('environment-lock').click();
  await page.getByTestId('lock-reason').fill('Quarter-end freeze');
  await page.getByTestId('lock-submit').click();
  await page.locator('[data-testid="environment-row"][data-slug="prod"][data-locked="true"]').waitFor();
  assert.equal(await page.getByTestId('lock-form').count(), 0, 'the lock form closes once the lock is saved');

  // Editing keeps what is not changed (the lock) and closes the form once saved.
  await prodRow.getByTestId('environment-edit').click();
  assert.equal(await page.getByTestId('environment-rank').inputValue(), '30');
  await page.getByTestId('environment-name').fill('Production EU');
  await page.getByTestId('environment-save').click();
  await page.locator('[data-testid="environment-row"][data-slug="prod"][data-locked="true"]').filter({ hasText: 'Production EU' }).waitFor();
  await page.getByTestId('environment-form').waitFor({ state: 'detached' });
  await browser.snap('02-catalog');

  // The matrix has the new row and column, with the lock shown.
  await page.getByTestId('nav-overview').click();
  await page.locator('[data-testid="matrix-cell"][data-service="billing"][data-environment="prod"][data-status="none"]').waitFor();
  await page.getByTestId('matrix').getByTestId('env-locked').waitFor();

  // A deploy is refused with the server's reason (409), shown in the dialog.
  browser.expectHttpError(409, '/api/v1/deployments');
  await page.getByTestId('new-deployment').click();
  await page.getByTestId('deploy-locked').waitFor();
  await page.getByTestId('deploy-version').fill('2.0.0');
  await page.getByTestId('deploy-confirm').fill('prod');
  await page.getByTestId('deploy-submit').click();
  const refusal = page.getByTestId('deploy-error');
  await refusal.waitFor();
  assert.match(await refusal.textContent(), /Quarter-end freeze/);
  await browser.snap('03-deploy-refused-locked');
  await page.keyboard.press('Escape');
  await page.getByTestId('deploy-dialog').waitFor({ state: 'detached' });

  // Unlocked by a script elsewhere: the Overview drops the lock badge live.
  const admin = await server.login();
  assert.equal((await server.request('POST', '/api/v1/environments/prod/unlock', { token: admin.access_token })).status, 200);
  await page.getByTestId('matrix').getByTestId('env-locked').waitFor({ state: 'detached' });

  // With the record executor the deployment waits for CI: it stays active until cancelled.
  await page.locator('[data-testid="matrix-cell"][data-environment="prod"]').getByTestId('cell-deploy').click();
  await page.getByTestId('deploy-version').fill('2.0.0');
  await page.getByTestId('deploy-confirm').fill('prod');
  await page.getByTestId('deploy-submit').click();
  await page.waitForURL(/\/deployments\/[0-9a-f-]{36}$/);
  await page.locator('[data-testid="deployment-status"][data-status="queued"], [data-testid="deployment-status"][data-status="in_progress"]').first().waitFor();
  await browser.snap('04-waiting-for-ci');
  await page.getByTestId('deployment-cancel').click();
  await page.getByTestId('deployment-cancel-confirm').click();
  await page.locator('[data-testid="deployment-status"][data-status="cancelled"]').waitFor();
  await page.getByTestId('mark-bad-open').click();
  await page.getByTestId('mark-bad-reason').fill('never finished');
  await page.getByTestId('mark-bad-submit').click();
  await page.getByTestId('marked-bad').waitFor();
  await page.getByTestId('timeline').getByText('marked bad: never finished').waitFor();
  await browser.snap('05-cancelled-marked-bad');

  // Nothing succeeded yet, so there is nothing to roll back to: the dialog says so.
  browser.expectHttpError(422, '/api/v1/rollbacks/preview');
  await page.getByTestId('rollback-open').click();
  await page.getByTestId('rollback-unavailable').waitFor();
  await browser.snap('06-nothing-to-roll-back-to');
  await page.keyboard.press('Escape');

  // A viewer reads everything but is offered no action that would be refused.
  const viewer = { username: 'vera', password: 'viewer-password-123' };
  assert.equal((await server.request('POST', '/api/v1/users', { token: admin.access_token, json: { ...viewer, role: 'viewer' } })).status, 201);
  await page.getByTestId('logout').click();
  await page.getByTestId('login-username').fill(viewer.username);
  await page.getByTestId('login-password').fill(viewer.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('nav-overview').click();
  await page.locator('[data-testid="matrix-cell"][data-environment="prod"][data-status="cancelled"]').waitFor();
  assert.equal(await page.getByTestId('new-deployment').count(), 0);
  assert.equal(await page.getByTestId('rollback-open').count(), 0);
  assert.equal(await page.getByTestId('cell-deploy').count(), 0);
  await page.getByTestId('matrix-cell-link').click();
  await page.getByTestId('deployment-summary').waitFor();
  assert.equal(await page.getByTestId('rollback-open').count(), 0);
  assert.equal(await page.getByTestId('mark-bad-open').count(), 0);
  await page.getByTestId('nav-settings').click();
  await page.getByTestId('tab-catalog').click();
  await page.locator('[data-testid="environment-row"][data-slug="prod"]').waitFor();
  assert.equal(await page.getByTestId('environment-lock').count(), 0);
  assert.equal(await page.getByTestId('environment-edit').count(), 0);
  assert.equal(await page.getByTestId('service-new').count(), 0);
  await browser.snap('07-viewer-catalog');
});
