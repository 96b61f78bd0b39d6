// The browser end-to-end harness: the real `flightdeck` binary on a free port with a fresh
// SQLite database, driven through Debian's Chromium by playwright-core. Every test file
// imports from here.
//
//   const server = await startServer(t);       // stopped when the test ends
//   const browser = await openBrowser(t);      // fails the test on console errors, failed requests
//   await browser.page.goto(server.url);
//   await browser.snap('login');               // screenshots at 375 px and 1440 px

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const outputDir = join(repoRoot, 'target', 'test-output');

/** The line the server prints once it accepts connections (DESIGN.md: tests never sleep). */
const LISTENING = 'flightdeck: listening on ';
/** Deadline for that line; a server that takes longer is broken, not slow. */
const START_TIMEOUT_MS = 30_000;

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Resolves once `condition()` is truthy, checking every 100 ms; rejects after `timeout` ms
 * with `message`. For conditions only the test process can see (responses counted, files
 * written); conditions in the page belong to `page.waitForFunction`.
 */
export async function eventually(condition, { timeout = 15_000, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${message}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Names safe for a directory: "Foundation: log in" -> "foundation-log-in". */
export function slug(name) {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 100) || 'test';
}

function randomPassword(length = 20) {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  return Array.from(randomBytes(length), (b) => alphabet[b % alphabet.length]).join('');
}

const cleanups = new WeakMap();

/**
 * Runs `fn` when the test ends, in reverse order of registration — so a browser opened after
 * the server is closed before the server stops (else its socket would see the server vanish).
 */
export function onCleanup(t, fn) {
  let stack = cleanups.get(t);
  if (!stack) {
    stack = [];
    cleanups.set(t, stack);
    t.after(async () => {
      const errors = [];
      while (stack.length) {
        try { await stack.pop()(); } catch (err) { errors.push(err); }
      }
      if (errors.length) throw errors[0];
    });
  }
  stack.push(fn);
}

/** The environment minus anything that would point the server at shared state. */
function hermeticEnv() {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith('FLIGHTDECK_') || ['DATABASE_URL', 'REDIS_URL', 'PROMETHEUS_URL', 'LOGS_URL', 'LOGS_KIND'].includes(key)) {
      delete env[key];
    }
  }
  return env;
}

/**
 * Starts `flightdeck serve` (binary from $FLIGHTDECK_BIN, default target/debug/flightdeck) on
 * 127.0.0.1:0 with its own SQLite file and bootstrap admin, and waits for its "listening" line.
 * `env` adds or overrides variables; `config` is TOML passed as `serve --config` (for settings
 * with no variable, such as `[auth] access_token_ttl_secs`). Stopped (and its data removed)
 * when the test ends.
 */
export async function startServer(t, { env = {}, config } = {}) {
  const webDir = join(repoRoot, 'frontend', 'dist');
  if (!existsSync(join(webDir, 'index.html'))) {
    throw new Error(`no SPA in ${webDir}: build it first (frontend/build.sh)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'fd-e2e-'));
  const args = ['serve'];
  if (config !== undefined) {
    writeFileSync(join(dir, 'flightdeck.toml'), config);
    args.push('--config', join(dir, 'flightdeck.toml'));
  }
  const admin = { username: 'admin', password: randomPassword(20) };
  const bin = resolve(repoRoot, process.env.FLIGHTDECK_BIN ?? 'target/debug/flightdeck');
  const child = spawn(bin, args, {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...hermeticEnv(),
      FLIGHTDECK_LISTEN: '127.0.0.1:0',
      DATABASE_URL: `sqlite://${join(dir, 'fd.db')}`,
      FLIGHTDECK_ADMIN_USER: admin.username,
      FLIGHTDECK_ADMIN_PASSWORD: admin.password,
      FLIGHTDECK_WEB_DIR: webDir,
      ...env,
    },
  });
  const log = [];
  child.stderr.on('data', (chunk) => log.push(chunk.toString()));
  const exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));

  const url = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server did not print "${LISTENING}" within ${START_TIMEOUT_MS} ms:\n${log.join('')}`)), START_TIMEOUT_MS);
    child.once('error', (err) => { clearTimeout(timer); rej(new Error(`cannot start ${bin}: ${err.message} (build it, or set FLIGHTDECK_BIN)`)); });
    exited.then(({ code, signal }) => { clearTimeout(timer); rej(new Error(`server exited (${code ?? signal}) before listening:\n${log.join('')}`)); });
    createInterface({ input: child.stdout }).on('line', (line) => {
      log.push(line + '\n');
      if (line.startsWith(LISTENING)) {
        clearTimeout(timer);
        res(line.slice(LISTENING.length).trim().replace(/\/$/, ''));
      }
    });
  });

  const server = {
    url,
    admin,
    log: () => log.join(''),
    /** fetch() against the server; `token` becomes the bearer. Resolves to {status, headers, body}. */
    async request(method, path, { token, json, headers = {} } = {}) {
      const res = await fetch(url + path, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: json !== undefined ? JSON.stringify(json) : undefined,
      });
      const text = await res.text();
      let body = text;
      try { body = text ? JSON.parse(text) : null; } catch { /* not JSON: keep the text */ }
      return { status: res.status, headers: res.headers, body };
    },
    /** Logs in through the API (not the browser) and returns the token response. */
    async login({ username, password } = admin) {
      const res = await server.request('POST', '/api/v1/auth/login', { json: { username, password } });
      if (res.status !== 200) throw new Error(`login as ${username} failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      }
      const logDir = join(outputDir, 'logs');
      mkdirSync(logDir, { recursive: true });
      writeFileSync(join(logDir, `${slug(t.name)}-server.log`), log.join(''));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  onCleanup(t, () => server.stop());
  return server;
}

/**
 * Opens Chromium with a fresh profile and one page at 1440×900 (in `timezoneId`, an IANA zone,
 * when given; else the machine's). The test fails when the page
 * logs a console error, throws, or a request fails or answers ≥ 400 — unless the test declared
 * that response with `browser.expectHttpError(status, pathPrefix)`.
 */
export async function openBrowser(t, { viewport = { width: 1440, height: 900 }, colorScheme = 'light', timezoneId } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'fd-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    colorScheme,
    timezoneId,
    acceptDownloads: true,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems = [];
  const expected = [];
  const allowed = [];
  const report = (problem) => {
    if (!allowed.some((re) => re.test(problem))) problems.push(problem);
  };
  const isExpected = (status, url) => {
    const path = new URL(url).pathname;
    return expected.some((e) => e.status === status && path.startsWith(e.path));
  };

  // Every page of the context is watched the same way.
  const watch = (p) => {
    p.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      // Chromium reports every ≥ 400 response as a console error too; the response handler
      // below decides about those.
      const m = /status of (\d{3})/.exec(msg.text());
      const where = msg.location()?.url;
      if (m && where && isExpected(Number(m[1]), where)) return;
      report(`console error: ${msg.text()}${where ? ` (${where})` : ''}`);
    });
    p.on('pageerror', (err) => report(`uncaught exception: ${err.message}`));
    p.on('crash', () => problems.push('page crashed'));
    p.on('requestfailed', (req) => {
      const error = req.failure()?.errorText ?? '';
      // Cancelled by the client: a reload or navigation drops what the page had in flight (a
      // background recount, a list reload). Not a failure of the server or the network.
      if (error === 'net::ERR_ABORTED') return;
      report(`request failed: ${req.method()} ${req.url()}: ${error}`);
    });
    p.on('response', (res) => {
      if (res.status() >= 400 && !isExpected(res.status(), res.url())) {
        report(`HTTP ${res.status()} for ${res.request().method()} ${res.url()}`);
      }
    });
  };
  watch(page);

  const shotDir = join(outputDir, 'screenshots', slug(t.name));
  mkdirSync(shotDir, { recursive: true });

  const browser = {
    context,
    page,
    /** Declares that a response with `status` under `path` is part of the test, not a bug. */
    expectHttpError(status, path) {
      expected.push({ status, path });
    },
    /**
     * Declares problems the test provokes on purpose (a stopped server makes requests fail):
     * any reported line matching `pattern` is ignored from now on. Match narrowly.
     */
    allow(pattern) {
      allowed.push(pattern);
    },
    /** Throws if anything went wrong in the page so far. */
    assertClean() {
      if (problems.length) {
        throw new Error(`the page reported ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
      }
    },
    /**
     * Opens another tab in the same profile (so it shares the session), watched for problems
     * like the first one. For a second screen that must follow changes live.
     */
    async newPage() {
      const other = await context.newPage();
      watch(other);
      return other;
    },
    /**
     * Screenshots the current state at 375 px and 1440 px wide (full page), then restores the
     * viewport. `target` is another tab from `newPage()`; the first page by default.
     */
    async snap(name, target = page) {
      const page = target;
      const original = page.viewportSize();
      for (const width of [375, 1440]) {
        await page.setViewportSize({ width, height: width === 375 ? 812 : 900 });
        // Let layout settle for the new width before capturing.
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
        await page.screenshot({ path: join(shotDir, `${name}-${width}.png`), fullPage: true, animations: 'disabled' });
      }
      await page.setViewportSize(original);
      browser.assertClean();
    },
    async close() {
      try {
        await context.close();
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
  // Cleanup first, then the verdict: a problem seen at the very end still fails the test.
  onCleanup(t, async () => {
    await browser.close();
    browser.assertClean();
  });
  return browser;
}
