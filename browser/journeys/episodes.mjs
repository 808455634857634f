// Journey 5: episodes, tasks and home pages. The early help worker lands on
// their tasks, follows a review due to its family and episode, is refused a
// closure without a reason, closes the episode with an outcome and reopens
// it; the health visitor adds a follow-up; the manager sees the team's
// caseload and what is overdue.
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
      await page.getByLabel('Reason for closing').fill('Goals met at the review with the family');
      await submit(page, button(page, 'Close the episode'), { status: 200, label: 'episode closed' });
      await assertVisible(page.getByText('Goals met at the review with the family').first());
      await submit(page, button(page, 'Reopen the episode'), { status: 200, label: 'episode reopened' });
      await assertVisible(page.getByRole('cell', { name: 'Reopened: Assessment' }));
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
