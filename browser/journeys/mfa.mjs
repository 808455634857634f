// Two-step verification: a second server, started with `--mfa required`.
// A health visitor signs in, is sent to set up an authenticator app, enrols
// with a code computed here (RFC 6238: HMAC-SHA-1, 6 digits, 30 s) from the
// key the page shows, saves the recovery codes and reaches the home page;
// signing in again asks for a code. Nothing is reachable before the code.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startKindred, DEMO_PASSWORD } from '../lib/server.mjs';
import { newPage, closePage, visit, submit, button, signOut, assertVisible } from '../lib/session.mjs';

/** RFC 4648 base32 (no padding) to bytes. */
function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of text.replace(/\s+/g, '').toUpperCase()) {
    const i = alphabet.indexOf(ch);
    assert.ok(i >= 0, `not base32: ${ch}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The 6-digit TOTP for a time step. */
function totp(key, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const hash = createHmac('sha1', key).update(counter).digest();
  const offset = hash[hash.length - 1] & 0x0f;
  const binary = hash.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, '0');
}

const stepNow = () => Math.floor(Date.now() / 1000 / 30);

export default function mfa(ctx) {
  describe('two-step verification (a server with --mfa required)', () => {
    const sub = {};
    before(async () => {
      sub.server = await startKindred({ families: 50, mfa: 'required' });
      sub.browser = ctx.browser;
    });
    after(async () => {
      await sub.server?.stop();
    });

    test('a health visitor enrols an authenticator app, then signs in with a code', async () => {
      // The RFC 6238 SHA-1 vector, so the code below is the standard's.
      assert.equal(totp(Buffer.from('12345678901234567890'), Math.floor(59 / 30)), '287082');
      const page = await newPage(sub);
      await visit(page, '/login');
      await page.getByLabel('Email address').fill('hv@westminster.example');
      await page.getByLabel('Password').fill(DEMO_PASSWORD);
      await submit(page, button(page, 'Sign in'), { status: 200, label: 'set up two-step verification' });
      assert.equal(new URL(page.url()).pathname, '/mfa/enrol');
      await assertVisible(page.getByRole('heading', { name: 'Set up two-step verification' }));
      await assertVisible(page.getByRole('img', { name: 'QR code to scan with your authenticator app' }));
      // Nothing else opens before the second factor.
      await visit(page, '/search', { axe: false });
      assert.equal(new URL(page.url()).pathname, '/mfa/enrol', 'a pending session reached /search');

      await page.getByText('I cannot scan the QR code').click();
      const key = base32(await page.locator('#secret').innerText());
      assert.equal(key.length, 20);
      // A wrong code first: the error summary.
      await page.getByLabel('Enter the 6-digit code from your authenticator app').fill(totp(key, stepNow() + 10));
      await submit(page, button(page, 'Continue'), { status: 422, label: 'a wrong code' });
      await assertVisible(page.locator('.govuk-error-summary'));
      const step = stepNow();
      await page.getByLabel('Enter the 6-digit code from your authenticator app').fill(totp(key, step));
      await submit(page, button(page, 'Continue'), { status: 200, label: 'the recovery codes' });
      await assertVisible(page.getByRole('heading', { name: 'Save your recovery codes' }));
      assert.equal(await page.locator('#recovery-codes li').count(), 10);
      await submit(page, page.getByRole('button', { name: 'Continue' }), { status: 200, label: 'home after enrolment' });
      assert.equal(new URL(page.url()).pathname, '/');
      await visit(page, '/mfa');
      await assertVisible(page.getByText(/^Set up on /));
      await signOut(page);

      // Signing in again asks for the code, and the next step's is accepted.
      await visit(page, '/login');
      await page.getByLabel('Email address').fill('hv@westminster.example');
      await page.getByLabel('Password').fill(DEMO_PASSWORD);
      await submit(page, button(page, 'Sign in'), { status: 200, label: 'the code page' });
      assert.equal(new URL(page.url()).pathname, '/mfa');
      await page.getByLabel('Enter the 6-digit code from your authenticator app').fill(totp(key, step + 1));
      await submit(page, button(page, 'Continue'), { status: 200, label: 'home after the code' });
      assert.equal(new URL(page.url()).pathname, '/');
      await assertVisible(page.getByText(/^Signed in as /));
      await signOut(page);
      await closePage(page);
    });
  });
}
