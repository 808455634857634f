// Journey 5: episodes, tasks and home pages. The early help worker lands on
// their tasks, follows a review due to its family and episode, is refused a
// closure without a reason, closes the episode with an outcome and reopens
// it; the health visitor adds a follow-up; the manager sees the team's
// caseload and what is overdue. Closing asks each open need's result and
// evidence (F15); the early help worker records a need and its result on the
// family's needs and outcomes page, and an administrator edits the outcomes
// framework.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, closePage, visit, submit, button, signIn, signOut, assertVisible } from '../lib/session.mjs';

export default function episodes(ctx) {
  describe('episodes, tasks and home pages', () => {
    test('an early help worker works a review from their home page and closes the episode', async () => {
      const page = await newPage(ctx);
      await signIn(page, 'earlyhelp@westminster.example');
      await visit(page, '/');
      await assertVisible(page.getByRole('heading', { name: 'Your tasks' }));
      assert.ok((await page.getByText('Overdue', { exact: true }).count()) > 0, 'an overdue task on the home page');
      await visit(page, '/tasks');
      await visit(page, '/tasks/team');
      await visit(page, '/tasks');
      const review = page.locator('tr', { hasText: 'Review due' }).first();
      await submit(page, review.locator('a[href^="/families/"]'), { status: 200, label: 'family of a review' });
      await submit(page, page.locator('a[href*="/episodes/"]').first(), { status: 200, label: 'episode' });
      await assertVisible(page.getByRole('heading', { name: 'Timeline' }));
      await page.getByLabel('Needs met', { exact: true }).check();
      await submit(page, button(page, 'Close the episode'), { status: 422, label: 'closure refused' });
      await assertVisible(page.locator('.govuk-error-summary').getByText('Enter the reason for closing the episode'));
      // Every open need in the episode's register needs its result and the evidence (F15).
      const close = page.locator('form[action$="/close"]');
      const results = close.locator('.govuk-radios[id^="result-"]');
      const open = await results.count();
      if (open > 0) {
        await assertVisible(page.locator('.govuk-error-summary').getByText(/^Choose the result for the need/).first());
      }
      for (let i = 0; i < open; i++) {
        await results.nth(i).getByLabel('Outcome achieved', { exact: true }).check();
      }
      const evidence = close.locator('textarea[name^="evidence-"]');
      for (let i = 0; i < (await evidence.count()); i++) {
        await evidence.nth(i).fill('Agreed at the closing review with the family and the school');
      }
      await page.getByLabel('Reason for closing').fill('Goals met at the review with the family');
      await submit(page, button(page, 'Close the episode'), { status: 200, label: 'episode closed' });
      await assertVisible(page.getByText('Goals met at the review with the family').first());
      await submit(page, button(page, 'Reopen the episode'), { status: 200, label: 'episode reopened' });
      await assertVisible(page.getByRole('cell', { name: 'Reopened: Assessment' }));
      await signOut(page);
      await closePage(page);
    });

    test("an early help worker records a family's need and its result, and checks outcomes were sustained", async () => {
      const page = await newPage(ctx);
      await signIn(page, 'earlyhelp@westminster.example');
      await visit(page, '/tasks');
      const review = page.locator('tr', { hasText: 'Review due' }).first();
      const family = (await review.locator('a[href^="/families/"]').getAttribute('href')).match(/\/families\/(\d+)/)[1];
      // A sustainment check in the inbox, when there is one, opens its form.
      const check = page.getByRole('link', { name: /^Record the check/ });
      if ((await check.count()) > 0) {
        await submit(page, check.first(), { status: 200, label: 'sustainment check' });
        await assertVisible(page.getByRole('heading', { name: 'Were the outcomes sustained?' }));
      }
      await visit(page, `/families/${family}/outcomes`);
      await assertVisible(page.getByRole('heading', { name: 'Needs and outcomes', level: 1 }));
      await submit(page, button(page, 'Add the need'), { status: 422, label: 'need refused' });
      await assertVisible(page.locator('.govuk-error-summary').getByText('Choose the outcome the need is under'));
      await page.getByLabel('Outcome', { exact: true }).selectOption({ label: 'Secure housing' });
      await page.getByLabel('The need', { exact: true }).fill('Damp in the children\'s bedroom, repairs not done');
      await submit(page, button(page, 'Add the need'), { status: 200, label: 'need added' });
      const need = page.locator('.govuk-inset-text', { hasText: 'Damp in the children' });
      await need.getByLabel('Progress made', { exact: true }).check();
      await submit(page, need.getByRole('button', { name: /^Record the result/ }), { status: 422, label: 'result without evidence' });
      await assertVisible(page.locator('.govuk-error-summary').getByText(/^Enter the evidence for the result of the need/));
      const again = page.locator('.govuk-inset-text', { hasText: 'Damp in the children' });
      await again.getByLabel('Evidence').fill('The landlord has booked the repair for next month');
      await submit(page, again.getByRole('button', { name: /^Record the result/ }), { status: 200, label: 'result recorded' });
      await assertVisible(page.getByText('The landlord has booked the repair for next month'));
      await signOut(page);
      await closePage(page);
    });

    test('an administrator edits the outcomes framework', async () => {
      const page = await newPage(ctx);
      await signIn(page, 'admin@westminster.example');
      await visit(page, '/admin/outcomes');
      await page.getByRole('group', { name: 'Secure housing' }).getByLabel('What need looks like').fill('');
      await submit(page, button(page, 'Save'), { status: 422, label: 'framework refused' });
      await assertVisible(page.locator('.govuk-error-summary').getByText('Enter what need looks like for “Secure housing”'));
      await page.getByRole('group', { name: 'Secure housing' }).getByLabel('What need looks like').fill('No settled home, or about to lose it');
      await page.getByLabel('Title', { exact: true }).last().fill('Connected to the community');
      await page.getByRole('group', { name: /^Add an outcome/ }).getByLabel('What need looks like').fill('Isolated, with nobody to turn to');
      await page.getByRole('group', { name: /^Add an outcome/ }).getByLabel('What achieving it looks like').fill('Part of a group they value');
      await submit(page, button(page, 'Save'), { status: 200, label: 'framework saved' });
      await assertVisible(page.getByText('Saved. New needs are recorded against this framework.'));
      await assertVisible(page.getByRole('heading', { name: 'Your outcome 11' }));
      await signOut(page);
      await closePage(page);
    });

    test('a health visitor adds a follow-up on a family', async () => {
      const page = await newPage(ctx);
      await signIn(page, 'hv@westminster.example');
      await visit(page, '/families/1');
      await submit(page, page.getByRole('link', { name: 'Add a follow-up' }), { status: 200, label: 'add a follow-up' });
      await submit(page, button(page, 'Add follow-up'), { status: 422, label: 'follow-up refused' });
      await assertVisible(page.locator('.govuk-error-summary').getByText('Enter what needs doing'));
      await page.getByLabel('What needs doing').fill('Ring about the nursery place');
      const next = new Date(Date.now() + 14 * 86_400_000);
      await page.getByLabel('Day').fill(String(next.getUTCDate()));
      await page.getByLabel('Month').fill(String(next.getUTCMonth() + 1));
      await page.getByLabel('Year').fill(String(next.getUTCFullYear()));
      await submit(page, button(page, 'Add follow-up'), { status: 200, label: 'family after the follow-up' });
      await assertVisible(page.getByText('Ring about the nursery place'));
      await signOut(page);
      await closePage(page);
    });

    test("a manager sees the team's caseload and what is overdue", async () => {
      const page = await newPage(ctx);
      await signIn(page, 'manager@westminster.example');
      await visit(page, '/');
      await assertVisible(page.getByRole('heading', { name: /^Caseload:/ }));
      await assertVisible(page.getByRole('heading', { name: 'Overdue across the team' }));
      await signOut(page);
      await closePage(page);
    });
  });
}
