// Journey 9: a break-glass from request to the privacy officer's review. The
// demo names a worker and the NHS number of someone in a family they cannot
// see; the worker breaks the glass (refused first without a reason), sees the
// family with the emergency banner and signs out; the privacy officer finds
// the use waiting in the review queue, accepts it, and it shows as accepted.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, closePage, visit, submit, button, signIn, signOut, assertVisible } from '../lib/session.mjs';

const REASON = 'Police at the door of the hub with a child found alone: I need to know who to call tonight.';

export default function breakGlass(ctx) {
  describe('break-glass', () => {
    test('a break-glass from request to the privacy officer’s review', async () => {
      const line = ctx.server.output().match(/Try a break-glass \(westminster\): sign in as (\S+) and give the NHS number ([\d ]+) \(a member of family (\d+),/);
      assert.ok(line, `the demo names a break-glass to try:\n${ctx.server.output()}`);
      const [, email, nhs, familyId] = line;

      const page = await newPage(ctx);
      await signIn(page, email);
      await visit(page, `/families/${familyId}`, { status: 404 });
      await visit(page, '/search');
      await page.getByLabel('Name', { exact: true }).fill('Nobody Atall');
      await submit(page, button(page, 'Search'), { status: 200, label: 'search results' });
      await submit(page, page.getByRole('link', { name: 'Cannot find a family you urgently need? Break the glass' }), { status: 200, label: 'break-glass form' });
      await assertVisible(page.getByRole('heading', { name: 'Break the glass' }));
      // Without a reason or the password: refused, nothing opened.
      await page.getByLabel('NHS number of a member of the family').fill(nhs);
      await submit(page, button(page, 'Break the glass'), { status: 422, label: 'break-glass without a reason' });
      await assertVisible(page.locator('.govuk-error-summary').getByText('Enter the reason you need emergency access'));
      await assertVisible(page.locator('.govuk-error-summary').getByText('Enter your password to confirm it is you'));
      await page.getByLabel('Why do you need emergency access?').fill(REASON);
      await page.getByLabel('Your password').fill('kindred-demo-2026');
      await submit(page, button(page, 'Break the glass'), { status: 200, label: 'the family, by break-glass' });
      assert.equal(new URL(page.url()).pathname, `/families/${familyId}`);
      await assertVisible(page.getByText(/^Emergency access until \d\d:\d\d\.$/));
      await assertVisible(page.getByText(`Your reason: ${REASON}`));
      const familyName = (await page.locator('h1').first().innerText()).trim();
      assert.equal(await page.getByRole('link', { name: 'Change family name' }).count(), 0, 'break-glass is to look, not to change');
      await signOut(page);

      await signIn(page, 'privacy@westminster.example');
      await assertVisible(page.getByText(/waiting for review/));
      await submit(page, page.getByRole('link', { name: 'Open the review queue' }), { status: 200, label: 'review queue' });
      const pending = page.locator('table').first().locator('tr', { hasText: new RegExp(`Family ${familyId}\\b`) });
      assert.equal(await pending.count(), 1, 'the use waits for review');
      await assertVisible(pending.getByText(REASON));
      await assertVisible(pending.getByText('Active now'));
      await submit(page, pending.getByRole('link', { name: /^Review/ }), { status: 200, label: 'review a use' });
      await assertVisible(page.getByText(REASON));
      await page.getByLabel('Accept: the use was justified').check();
      await submit(page, button(page, 'Record the review'), { status: 200, label: 'queue after the review' });
      assert.equal(new URL(page.url()).pathname, '/privacy/reviews');
      const decided = page.locator('table').last().locator('tr', { hasText: new RegExp(`Family ${familyId}\\b`) });
      assert.equal(await decided.count(), 1, `the use is reviewed: ${familyName}`);
      await assertVisible(decided.getByText('Accepted'));
      await signOut(page);
      await closePage(page);
    });
  });
}
