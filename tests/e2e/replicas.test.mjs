// Scaled mode from the browser's side: two server processes on one fresh PostgreSQL database
// with Redis for fan-out. The browser watches replica B; a deploy started through replica A's
// REST API must appear live in B's matrix and deployment list. The database poll is set to an
// hour, so only Redis can carry the events in time.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import { test } from 'node:test';

import { onCleanup, openBrowser, startServer } from './harness.mjs';

const PG = { host: '127.0.0.1', port: 5432, user: 'postgres' };
const REDIS = { host: '127.0.0.1', port: 6379 };

const CONFIG = `
[live]
db_poll_secs = 3600

[[catalog.services]]
slug = "checkout-api"
name = "Checkout API"

[[catalog.environments]]
slug = "staging"
name = "Staging"
rank = 20
executor = { kind = "command", program = "/bin/sh", args = ["-c", "echo rolling out {version}; sleep 2; echo done >&2"], timeout_secs = 60 }
`;

function psql(sql) {
  try {
    return execFileSync('psql', ['-h', PG.host, '-p', String(PG.port), '-U', PG.user, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 15_000,
    });
  } catch (err) {
    throw new Error(`PostgreSQL at ${PG.host}:${PG.port} is required for this test and failed: ${err.stderr || err.message}`);
  }
}

/** Sends PING over RESP and expects +PONG; throws with a clear message otherwise. */
async function assertRedisUp() {
  await new Promise((resolve, reject) => {
    const socket = createConnection(REDIS);
    const fail = (why) => {
      socket.destroy();
      reject(new Error(`Redis at ${REDIS.host}:${REDIS.port} is required for this test: ${why}`));
    };
    socket.setTimeout(5_000, () => fail('no answer within 5 s'));
    socket.once('error', (err) => fail(err.message));
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.once('data', (data) => {
      socket.end();
      if (data.toString().startsWith('+PONG')) resolve();
      else fail(`unexpected answer ${JSON.stringify(data.toString())}`);
    });
  });
}

test('a deploy started through replica A appears live in the matrix and history of a browser on replica B', async (t) => {
  // Real services or a loud failure: never a silent skip.
  await assertRedisUp();
  assert.equal(psql('SELECT 1').trim(), '1');
  const db = `fd_e2e_${Date.now()}_${randomBytes(3).toString('hex')}`;
  psql(`CREATE DATABASE ${db}`);
  // Registered first, so it runs last: after both servers have stopped.
  onCleanup(t, () => {
    psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  });

  const password = randomBytes(12).toString('hex');
  const env = {
    DATABASE_URL: `postgres://${PG.user}@${PG.host}:${PG.port}/${db}`,
    REDIS_URL: `redis://${REDIS.host}:${REDIS.port}`,
    FLIGHTDECK_ADMIN_PASSWORD: password,
    // Both replicas must sign and accept the same tokens.
    FLIGHTDECK_JWT_SECRET: randomBytes(32).toString('hex'),
  };
  // A first, so migrations and the bootstrap admin happen once; then B on the same database.
  const a = await startServer(t, { env, config: CONFIG });
  const b = await startServer(t, { env, config: CONFIG });
  const admin = { username: 'admin', password };
  for (const replica of [a, b]) {
    const info = await replica.request('GET', '/api/v1/info');
    assert.equal(info.status, 200);
    assert.equal(info.body.database, 'postgres');
    assert.equal(info.body.redis, true, 'the replica fans events out through Redis');
  }

  // The browser signs in on B and watches the Overview.
  const browser = await openBrowser(t);
  const { page } = browser;
  page.setDefaultTimeout(15_000);
  await page.goto(b.url);
  await page.getByTestId('login-username').fill(admin.username);
  await page.getByTestId('login-password').fill(admin.password);
  await page.getByTestId('login-submit').click();
  await page.locator('[data-testid="live-indicator"][data-state="live"]').waitFor();
  await page.evaluate(() => { window.__sameDocument = true; });
  const cell = '[data-testid="matrix-cell"][data-service="checkout-api"][data-environment="staging"]';
  await page.locator(`${cell}[data-status="none"]`).waitFor();
  await browser.snap('01-replica-b-before');

  // A script deploys through replica A.
  const tokens = await a.login(admin);
  const started = Date.now();
  const deploy = await a.request('POST', '/api/v1/deployments', {
    token: tokens.access_token,
    json: { service: 'checkout-api', environment: 'staging', version: 'v7.1.0', description: 'through replica A' },
  });
  assert.equal(deploy.status, 202, JSON.stringify(deploy.body));

  // B's matrix follows it live: in progress, then succeeded, with the new version current.
  await page.locator(`${cell}[data-status="in_progress"], ${cell}[data-status="queued"]`).first().waitFor();
  await browser.snap('02-replica-b-in-progress');
  await page.locator(`${cell}[data-status="succeeded"][data-version="v7.1.0"]`).waitFor({ timeout: 10_000 });
  const seenAfter = Date.now() - started;
  assert.ok(seenAfter < 10_000, `B showed the result within ${seenAfter} ms (the database poll is an hour)`);
  await browser.snap('03-replica-b-succeeded');

  // And B's history lists it, still without a reload; a second deploy from A arrives live.
  await page.getByTestId('nav-deployments').click();
  await page.locator(`[data-testid="deployment-row"][data-id="${deploy.body.id}"][data-status="succeeded"]`).waitFor();
  const second = await a.request('POST', '/api/v1/deployments', {
    token: tokens.access_token,
    json: { service: 'checkout-api', environment: 'staging', version: 'v7.1.1' },
  });
  assert.equal(second.status, 202, JSON.stringify(second.body));
  const row = page.locator(`[data-testid="deployment-row"][data-id="${second.body.id}"]`);
  await row.waitFor();
  await browser.snap('04-replica-b-history');

  // Its detail page on B follows it to the end: status and output arrive through Redis.
  await row.locator('a.version-link').click();
  await page.locator('[data-testid="deployment-status"][data-status="in_progress"]').waitFor();
  await page.getByTestId('deployment-log').getByText('rolling out v7.1.1').waitFor();
  await page.locator('[data-testid="deployment-status"][data-status="succeeded"]').waitFor();
  await page.locator('[data-testid="deployment-log"] [data-stream="stderr"]').getByText('done').waitFor();
  await browser.snap('05-replica-b-detail');
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was never reloaded');
});
