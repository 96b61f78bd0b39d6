// When the live feed cannot be had: WebSockets blocked (a proxy that strips upgrades) makes
// the app poll the API instead, and a server that goes away shows as offline.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { openBrowser, startServer } from './harness.mjs';

/** Stands in for a network where every WebSocket fails to open, as behind such a proxy. */
function blockWebSockets() {
  window.WebSocket = class BlockedWebSocket extends EventTarget {
    constructor(url) {
      super();
      this.url = url;
      this.readyState = 0;
      this.binaryType = 'blob';
      setTimeout(() => {
        this.readyState = 3;
        this.dispatchEvent(new Event('error'));
        this.dispatchEvent(new CloseEvent('close', { code: 1006, wasClean: false }));
      }, 20);
    }
    send() {}
    close() {}
  };
}

test('with WebSockets blocked the app polls for changes, and shows offline when the server is gone', async (t) => {
  const server = await startServer(t);
  const browser = await openBrowser(t);
  const { page } = browser;
  page.setDefaultTimeout(20_000);
  await page.addInitScript(blockWebSockets);

  await page.goto(`${server.url}/audit`);
  await page.getByTestId('login-username').fill(server.admin.username);
  await page.getByTestId('login-password').fill(server.admin.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('audit-row').first().waitFor();

  // A few failed attempts (1 s, 2 s backoff) and the app stops waiting for the socket.
  await page.locator('[data-testid="live-indicator"][data-state="polling"]').waitFor();
  await browser.snap('01-polling');

  // Changes still arrive, from the periodic reload, without the user reloading.
  await page.evaluate(() => { window.__sameDocument = true; });
  const admin = await server.login();
  const created = await server.request('POST', '/api/v1/tokens', { token: admin.access_token, json: { name: 'seen-by-polling' } });
  assert.equal(created.status, 201);
  await page.locator(`[data-testid="audit-row"][data-action="token.create"]:has(.target-id[title="${created.body.token.id}"])`).waitFor();
  assert.equal(await page.evaluate(() => window.__sameDocument), true);

  // The server goes away: the next poll cannot reach it either.
  // (A poll that raced the shutdown may also have been reloading the audit list.)
  browser.allow(/request failed: GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/(info|audit\?\S*): net::ERR_CONNECTION_REFUSED/);
  browser.allow(/console error: Failed to load resource: net::ERR_CONNECTION_REFUSED/);
  await server.stop();
  await page.locator('[data-testid="live-indicator"][data-state="offline"]').waitFor();
  await browser.snap('02-offline');

  // A page that needs the API says it cannot load, in words, and offers to try again.
  browser.allow(/request failed: GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/tokens\?\S*: net::ERR_CONNECTION_REFUSED/);
  await page.getByTestId('nav-settings').click();
  const error = page.getByTestId('error-state');
  await error.waitFor();
  assert.match(await error.textContent(), /Cannot reach the Flightdeck server/);
  await error.getByRole('button', { name: 'Try again' }).waitFor();
  await browser.snap('03-error-state');
});
