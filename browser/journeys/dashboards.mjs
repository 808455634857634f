// Journey 14: live data. The manager opens the dashboards, switches to wards
// and to the last six months, reads one indicator by area and month, then
// rates the partnership on the maturity matrix: a missing dimension is named
// first, and the saved self-assessment heads the history. Every page is
// axe-checked.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, closePage, submit, button, signIn, signOut, assertVisible } from '../lib/session.mjs';

export default function dashboards(ctx) {
  describe('dashboards and maturity', () => {
    test('the manager reads the dashboards by ward and rates the partnership', async () => {
      const page = await newPage(ctx);
      await signIn(page, 'manager@westminster.example');
      await submit(page, page.getByRole('link', { name: 'Dashboards', exact: true }), { status: 200, label: 'dashboards' });
      await assertVisible(page.getByRole('heading', { name: 'Contacts by mode' }));
      await assertVisible(page.getByRole('img', { name: /^Reach: births and families registered by month/ }));
      await page.getByLabel('Ward', { exact: true }).check();
      await page.getByLabel('Months', { exact: true }).selectOption('6');
      await submit(page, button(page, 'Show'), { status: 200, label: 'dashboards by ward' });
      await assertVisible(page.getByRole('rowheader', { name: 'Westbourne' }).first());
      await submit(page, page.getByRole('link', { name: 'see them by month for contacts by mode' }), { status: 200, label: 'one indicator by month' });
      await assertVisible(page.getByRole('heading', { name: 'Contacts by mode', level: 1 }));
      assert.equal(await page.locator('thead').first().locator('th').count(), 8, 'ward, six months and the total');

      await submit(page, page.getByRole('link', { name: 'Maturity', exact: true }), { status: 200, label: 'maturity' });
      await assertVisible(page.getByRole('heading', { name: 'History' }));
      await page.getByRole('group', { name: 'Leadership and governance' }).getByLabel('Maturity').check();
      await page.getByRole('group', { name: 'IT systems and data' }).getByLabel('Maturity').check();
      await page.getByLabel('Summary (optional)').fill('Journey self-assessment.');
      // Clear one dimension the last assessment rated, so the form refuses it.
      const commissioning = page.getByRole('group', { name: 'Commissioning' });
      const chosen = commissioning.locator('input:checked');
      if (await chosen.count()) await chosen.evaluate((el) => { el.checked = false; });
      await submit(page, button(page, 'Save this self-assessment'), { status: 422, label: 'maturity without commissioning' });
      await assertVisible(page.locator('.govuk-error-summary').getByText('Choose a level for commissioning'));
      assert.equal(await page.getByLabel('Summary (optional)').inputValue(), 'Journey self-assessment.');
      await commissioning.getByLabel('Substantial progress').check();
      await submit(page, button(page, 'Save this self-assessment'), { label: 'maturity saved' });
      await assertVisible(page.getByText('The self-assessment is saved.'));
      await assertVisible(page.getByText('Journey self-assessment.'));
      await signOut(page);
      await closePage(page);
    });
  });
}
