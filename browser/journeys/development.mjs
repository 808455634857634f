// Journey 5: child development and the early help assessment. A health
// visitor reads the family of eight's ASQ results against Westminster's own
// cut-offs, has an out-of-range score refused and records an ASQ-3; the draft
// early help assessment will not complete with sections missing, and keeps
// what was written; the administrator sees the council's cut-offs.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, closePage, visit, submit, button, signIn, signOut, assertVisible } from '../lib/session.mjs';

// `kindred demo` makes each borough's first family the family of eight, with
// child development records and early help assessments.
const FAMILY = '/families/1';

export default function development(ctx) {
  describe('child development and the early help assessment', () => {
    test('a health visitor records an ASQ-3 and reads results against the council cut-offs', async () => {
      const page = await newPage(ctx);
      await signIn(page, 'hv@westminster.example');
      await visit(page, FAMILY);
      await submit(page, page.getByRole('link', { name: 'Child development', exact: true }), { status: 200, label: 'child development' });
      await assertVisible(page.getByText('Below cut-off'));
      await assertVisible(page.getByText('No cut-off configured'));
      await submit(page, page.getByRole('link', { name: /^Record an ASQ-3 for / }).first(), { status: 200, label: 'record an ASQ-3' });
      await page.getByLabel('Communication', { exact: true }).fill('65');
      await page.getByLabel('Gross motor', { exact: true }).fill('50');
      await page.getByLabel('Fine motor', { exact: true }).fill('45');
      await page.getByLabel('Problem solving', { exact: true }).fill('40');
      await page.getByLabel('Personal-social', { exact: true }).fill('45');
      await submit(page, button(page, 'Save the ASQ-3'), { status: 422, label: 'ASQ-3 refused' });
      await assertVisible(page.locator('.govuk-error-summary').getByText('Communication score must be between 0 and 60'));
      assert.equal(await page.getByLabel('Gross motor', { exact: true }).inputValue(), '50');
      await page.getByLabel('Communication', { exact: true }).fill('45');
      await submit(page, button(page, 'Save the ASQ-3'), { status: 200, label: 'child development after saving' });
      assert.equal(new URL(page.url()).pathname, `${FAMILY}/development`);

      // The other forms, for axe.
      await visit(page, `${FAMILY}/development/asqse`);
      await visit(page, `${FAMILY}/development/two-year-review`);

      // The completed early help assessment, read-only; the draft, not yet complete.
      await visit(page, `${FAMILY}/early-help-assessments`);
      await submit(page, page.getByRole('link', { name: / assessment$/ }).last(), { status: 200, label: 'the completed early help assessment' });
      await assertVisible(page.getByText('It can no longer be changed.'));
      await visit(page, `${FAMILY}/early-help-assessments`);
      await submit(page, page.getByRole('link', { name: 'Continue the draft' }), { status: 200, label: 'the draft early help assessment' });
      await submit(page, button(page, 'Complete the assessment'), { status: 422, label: 'early help assessment not complete' });
      await assertVisible(page.locator('.govuk-error-summary'));
      assert.match(await page.getByLabel('Reason for the assessment').inputValue(), /Review after four months/);
      await signOut(page);
      await closePage(page);
    });

    test("the administrator sees the council's own cut-offs", async () => {
      const page = await newPage(ctx);
      await signIn(page, 'admin@westminster.example');
      await visit(page, '/admin/asq-cutoffs');
      await assertVisible(page.getByText('25 / 35'));
      await signOut(page);
      await closePage(page);
    });
  });
}
