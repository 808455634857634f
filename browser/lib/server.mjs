// Starts the real Kindred binary over a fresh SQLite database with the
// synthetic demo partnership, and stops it again.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export const DEMO_PASSWORD = 'kindred-demo-2026';

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `kindred demo` on a free port. `mfa: 'required'` serves it with
 * multi-factor authentication required (the demo's default is off).
 */
export async function startKindred({ families = 300, mfa } = {}) {
  const bin = process.env.KINDRED_BIN
    ? resolve(process.env.KINDRED_BIN)
    : resolve(here, '..', '..', 'target', 'release', 'kindred');
  if (!existsSync(bin)) {
    throw new Error(`Kindred binary not found at ${bin}: run cargo build --release -p kindred or set KINDRED_BIN`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'kindred-browser-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(
    bin,
    [
      '--db', `sqlite://${join(dir, 'b.db')}`, 'demo', '--families', String(families), '--listen', `127.0.0.1:${port}`,
      ...(mfa ? ['--mfa', mfa] : []),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      // The public routes' rate limit is off unless the run asks for one: the
      // journeys and axe move faster than any person.
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn', KINDRED_RATE_LIMIT: process.env.KINDRED_RATE_LIMIT ?? '0' },
    },
  );
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });

  const deadline = Date.now() + 120_000;
  for (;;) {
    if (exited) throw new Error(`kindred exited early (${JSON.stringify(exited)}):\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`kindred did not answer GET /login within 120 s:\n${output}`);
    }
    try {
      const res = await fetch(`${base}/login`);
      if (res.status === 200) break;
    } catch { /* not listening yet */ }
    await sleep(250);
  }

  return {
    base,
    output: () => output,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        for (let i = 0; i < 40 && !exited; i++) await sleep(100);
        if (!exited) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
