// Journey: retention. The privacy officer opens the retention page from the
// navigation, finds the families flagged under Westminster's six-year rule
// (and the demo's kept and erased ones among the decisions), opens a flagged
// family, is told what is missing when she saves nothing and when she chooses
// to erase without confirming, keeps it for two years instead, and finds it
// gone from the flagged list and among the decisions. Then she erases another,
// which is then "not found" to review again.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, closePage, visit, submit, button, signIn, signOut, assertVisible } from '../lib/session.mjs';

export default function retention(ctx) {
  describe('retention', () => {
    test('the privacy officer keeps one flagged family and erases another', async () => {
      const page = await newPage(ctx);
      await signIn(page, 'privacy@westminster.example');
      await submit(page, page.getByRole('link', { name: 'Retention', exact: true }), { status: 200, label: 'retention' });
      await assertVisible(page.getByRole('heading', { name: 'Retention', level: 1 }));
      await assertVisible(page.getByText(/^6 families flagged/));
      const decisions = page.locator('table').last().locator('tbody tr');
      assert.ok((await decisions.filter({ hasText: 'Erased' }).count()) >= 1, 'the demo erased a family');
      assert.ok((await decisions.filter({ hasText: 'Kept' }).count()) >= 1, 'the demo kept a family');
      const flagged = page.locator('table').first().locator('tbody tr');
      assert.equal(await flagged.count(), 6, 'six families flagged');
      const firstId = (await flagged.nth(0).innerText()).match(/Family (\d+)/)[1];
      const secondId = (await flagged.nth(1).innerText()).match(/Family (\d+)/)[1];

      await submit(page, flagged.nth(0).getByRole('link', { name: /^Review/ }), { status: 200, label: 'review a flagged family' });
      await submit(page, button(page, 'Save the decision'), { status: 422, label: 'decision with nothing chosen' });
      const summary = page.locator('.govuk-error-summary');
      await assertVisible(summary.getByText("Select whether to keep or erase the family's record"));
      await assertVisible(summary.getByText('Enter the reason for your decision'));
      await page.getByLabel('Erase it').check();
      await page.getByLabel('Reason').fill('Retention period passed.');
      await submit(page, button(page, 'Save the decision'), { status: 422, label: 'erase without confirming' });
      await assertVisible(page.locator('.govuk-error-summary').getByText(/Confirm that you understand/));
      await page.getByLabel('Keep it, and flag it again later').check();
      await page.getByLabel('If kept: years until it is flagged again').fill('2');
      await page.getByLabel('Reason').fill('A sibling is still known to CAMHS.');
      await submit(page, button(page, 'Save the decision'), { status: 200, label: 'retention after keeping' });
      assert.equal(new URL(page.url()).pathname, '/privacy/retention');
      await assertVisible(page.getByText(/^5 families flagged/));
      await assertVisible(page.getByText('A sibling is still known to CAMHS.'));

      await visit(page, `/privacy/retention/${secondId}`);
      await page.getByLabel('Erase it').check();
      await page.getByLabel('Reason').fill('Retention period passed; no open work.');
      await page.getByLabel(/^If erasing: I understand/).check();
      await submit(page, button(page, 'Save the decision'), { status: 200, label: 'retention after erasing' });
      await assertVisible(page.getByText(/^4 families flagged/));
      await visit(page, `/privacy/retention/${secondId}`, { status: 404 });
      await visit(page, `/privacy/retention/${firstId}`, { status: 404 });
      await visit(page, '/privacy/retention');
      await signOut(page);
      await closePage(page);
    });
  });
}
