// Journey 9: consent and information sharing. A health visitor records a
// family's consent to contact by the family hub (refused first without its
// evidence), sees it listed, and withdraws it, which shows at once; an
// administrator records an information-sharing agreement and ends it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, closePage, visit, submit, button, signIn, signOut, assertVisible } from '../lib/session.mjs';

// Each borough's first family is the family of eight; the health visitor is in its team.
const FAMILY = '/families/1';
const EVIDENCE = 'Signed hub contact form, kept in the family hub file (browser journey)';
const TITLE = 'Church Street health and early help (browser journey)';

async function today(page, prefix) {
  const d = new Date();
  await page.locator(`#${prefix}_day`).fill(String(d.getUTCDate()));
  await page.locator(`#${prefix}_month`).fill(String(d.getUTCMonth() + 1));
  await page.locator(`#${prefix}_year`).fill(String(d.getUTCFullYear()));
}

export default function consent(ctx) {
  describe('consent and information sharing', () => {
    test('a health visitor records a consent, sees it listed, and withdraws it', async () => {
      const page = await newPage(ctx);
      await signIn(page, 'hv@westminster.example');
      await visit(page, FAMILY);
      await submit(page, page.getByRole('link', { name: /^Consent and sharing for/ }), { status: 200, label: 'consent and sharing' });
      await assertVisible(page.getByRole('heading', { name: 'Consent and sharing', level: 1 }));
      await assertVisible(page.getByRole('heading', { name: /^What reaches / }));
      // Without evidence or scope: refused, each named.
      await page.locator('#person_id').selectOption({ index: 1 });
      await page.locator('input[name="given_by"]').first().check();
      await page.getByLabel('Contact by the family hub').check();
      await today(page, 'given');
      await page.getByLabel('In writing, on a signed form').check();
      await submit(page, button(page, 'Record consent'), { status: 422, label: 'consent refused' });
      await assertVisible(page.locator('.govuk-error-summary').getByText(/Enter the evidence of consent/));
      await assertVisible(page.locator('.govuk-error-summary').getByText(/Select all partners, or at least one organisation/));
      assert.ok(await page.getByLabel('Contact by the family hub').isChecked(), 'the purpose chosen is kept');
      await page.getByLabel('All partners of the council').check();
      await page.getByLabel('Evidence').fill(EVIDENCE);
      await submit(page, button(page, 'Record consent'), { status: 200, label: 'consent recorded' });
      const card = page.locator('.govuk-summary-card', { hasText: EVIDENCE });
      await assertVisible(card.getByText('Active', { exact: true }));
      await assertVisible(card.getByText('Contact by the family hub'));
      // Withdrawn: at once.
      await card.getByLabel('Why consent was withdrawn (optional)').fill('Moved to another hub');
      await submit(page, card.getByRole('button', { name: /^Withdraw consent/ }), { status: 200, label: 'consent withdrawn' });
      const after = page.locator('.govuk-summary-card', { hasText: EVIDENCE });
      await assertVisible(after.getByText('Withdrawn', { exact: true }));
      await assertVisible(after.getByText(/Moved to another hub/));
      assert.equal(await after.getByRole('button', { name: /^Withdraw consent/ }).count(), 0, 'withdrawn once');
      await signOut(page);
      await closePage(page);
    });

    test('an administrator records an information-sharing agreement and ends it', async () => {
      const page = await newPage(ctx);
      await signIn(page, 'admin@westminster.example');
      await submit(page, page.getByRole('link', { name: 'Sharing agreements', exact: true }), { status: 200, label: 'agreements' });
      await assertVisible(page.getByText('Westminster early help partnership'));
      await page.getByLabel('Title').fill(TITLE);
      await page.getByLabel('Public task').check();
      await page.getByLabel('Contact notes').check();
      await today(page, 'starts');
      // One party only: refused.
      await page.locator('input[name="party"]').nth(0).check();
      await submit(page, button(page, 'Record agreement'), { status: 422, label: 'agreement refused' });
      await assertVisible(page.locator('.govuk-error-summary').getByText(/Select at least two organisations/));
      assert.equal(await page.getByLabel('Title').inputValue(), TITLE);
      await page.locator('input[name="party"]').nth(1).check();
      await submit(page, button(page, 'Record agreement'), { status: 200, label: 'agreement recorded' });
      const card = page.locator('.govuk-summary-card', { hasText: TITLE });
      await assertVisible(card.getByText('Active', { exact: true }));
      await assertVisible(card.getByText('Public task'));
      await submit(page, card.getByRole('button', { name: /^End this agreement/ }), { status: 200, label: 'agreement ended' });
      await assertVisible(page.locator('.govuk-summary-card', { hasText: TITLE }).getByText('Ended', { exact: true }));
      await signOut(page);
      await closePage(page);
    });
  });
}
