// Journey: the service directory. A family, signed out, finds a service by
// what they need and their postcode and opens its page; a health visitor
// signs in and connects a family to it (refused until consent is recorded);
// the VCS worker whose charity runs it opens the request and accepts it, and
// the history shows each step.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, closePage, visit, submit, button, signIn, signOut, assertVisible } from '../lib/session.mjs';

// `kindred demo` makes each borough's first family the family of eight, which
// the demo health visitor works with.
const FAMILY = '/families/1';

export default function directory(ctx) {
  describe('directory', () => {
    test('a family finds a service and a practitioner connects a family to it', async () => {
      const page = await newPage(ctx);
      // Signed out: the public directory.
      await visit(page, '/directory');
      await page.getByLabel('Council').selectOption({ label: 'Westminster City Council' });
      await page.getByLabel('What do you need help with?').selectOption({ label: 'Money and debt' });
      await page.getByLabel('Your postcode').fill('W2 5AB');
      await submit(page, button(page, 'Search'), { status: 200, label: 'directory results' });
      await assertVisible(page.getByRole('heading', { name: /\d+ services?/ }));
      const link = page.getByRole('link', { name: /^Food bank and advice/ }).first();
      await submit(page, link, { status: 200, label: 'a service' });
      await assertVisible(page.getByRole('heading', { name: /^Food bank and advice/ }));
      await assertVisible(page.getByText('Free', { exact: false }));
      const service = new URL(page.url()).pathname.split('/').pop();
      assert.match(service, /^[0-9a-f-]{36}$/, 'a service is found by its UUID');

      // A health visitor connects a family to it.
      await signIn(page, 'hv@westminster.example');
      await visit(page, FAMILY);
      await assertVisible(page.getByRole('link', { name: 'Connect to a service' }));
      await visit(page, `${FAMILY}/connections/new?service=${service}`);
      await page.locator('input[name="people"]').first().check();
      await page.getByLabel('What the family would like from the service').fill('Help with food this month and advice on benefits.');
      await page.getByLabel('Verbally, in person or by phone').check();
      // No one recorded as consenting: refused, with the error summary.
      await submit(page, button(page, 'Send request'), { status: 422, label: 'request refused without consent' });
      await assertVisible(page.locator('.govuk-error-summary'));
      await page.locator('input[name="consent_person"]').first().check();
      await submit(page, button(page, 'Send request'), { status: 200, label: 'request sent' });
      const path = new URL(page.url()).pathname;
      assert.match(path, /^\/connections\/\d+$/);
      await assertVisible(page.locator('#status').getByText('Sent'));
      await signOut(page);

      // The VCS worker opens it from their inbox and accepts it.
      await signIn(page, 'vcs@westminster.example');
      await visit(page, '/connections');
      const id = path.split('/').pop();
      await submit(page, page.getByRole('link', { name: `C${id}`, exact: true }), { status: 200, label: 'the request' });
      await assertVisible(page.locator('#status').getByText('Opened'));
      await submit(page, button(page, 'Accept'), { status: 200, label: 'accepted' });
      await assertVisible(page.locator('#status').getByText('Accepted'));
      const history = page.locator('#history');
      for (const step of ['Sent', 'Opened', 'Accepted']) {
        await assertVisible(history.getByText(step, { exact: true }));
      }
      await signOut(page);
      await closePage(page);
    });
  });
}
