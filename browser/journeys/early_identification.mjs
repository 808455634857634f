// Early identification (F20). The triage officer follows "Early
// identification" to the families whose partners' facts add up, each with
// its facts and sources; is told a reason is needed for "not appropriate";
// records it, and the family moves to "Decided". A health visitor, whose
// organisation signed no agreement for it, gets "not found".
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, closePage, visit, submit, button, signIn, signOut, assertVisible } from '../lib/session.mjs';

export default function earlyIdentification(ctx) {
  describe('early identification', () => {
    test('the triage officer reads why each family is listed and records a decision', async () => {
      const page = await newPage(ctx);
      await signIn(page, 'triage@westminster.example');
      await visit(page, '/');
      await submit(page, page.getByRole('link', { name: 'Early identification', exact: true }), { status: 200, label: 'early identification' });
      await assertVisible(page.getByRole('heading', { name: 'Early identification', level: 1 }));
      const waiting = async () => Number((await page.getByRole('heading', { name: /^Waiting for a decision/ }).innerText()).match(/\((\d+)\)/)[1]);
      const before = await waiting();
      assert.ok(before > 0, 'families waiting for a decision');
      const card = page.locator('.govuk-summary-card').first();
      const name = (await card.locator('.govuk-summary-card__title').innerText()).trim();
      assert.ok((await card.locator('tbody tr').count()) >= 2, 'at least two facts');
      await card.getByLabel('Not appropriate').check();
      await submit(page, card.getByRole('button', { name: /^Record decision/ }), { status: 422, label: 'no reason' });
      await assertVisible(page.getByRole('link', { name: 'Enter why an offer of early help is not appropriate' }));
      const again = page.locator('.govuk-summary-card', { hasText: name }).first();
      assert.ok(await again.getByLabel('Not appropriate').isChecked(), 'the choice is kept');
      await again.getByLabel('Reason or note').fill('The family already has support from their church community.');
      await submit(page, again.getByRole('button', { name: /^Record decision/ }), { status: 200, label: 'decision recorded' });
      await assertVisible(page.getByText(/^Decision recorded\./));
      assert.equal(await waiting(), before - 1, 'one fewer waiting');
      const decided = page.locator('.govuk-summary-card', { hasText: 'already has support from their church community' });
      assert.equal(await decided.count(), 1, 'under decided, with its reason');
      await signOut(page);
      await closePage(page);
    });

    test('a health visitor is not offered the list, and cannot open it', async () => {
      const page = await newPage(ctx);
      await signIn(page, 'hv@westminster.example');
      assert.equal(await page.getByRole('link', { name: 'Early identification', exact: true }).count(), 0);
      await visit(page, '/early-identification', { status: 404 });
      await visit(page, '/');
      await signOut(page);
      await closePage(page);
    });
  });
}
