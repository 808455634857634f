// Journey 4: contacts and case notes. A health visitor records a note for
// health visitors only; the school nurse in the same team sees that the
// contact happened, and how many there have been, but never what it says.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, closePage, visit, submit, button, signIn, signOut, assertVisible } from '../lib/session.mjs';

// `kindred demo` makes each borough's first family the family of eight; both
// demo practitioners are in its team.
const FAMILY = '/families/1';
const NOTE = 'Talked about sleep and feeding; mum worried about money. For health visitors only.';

export default function contacts(ctx) {
  describe('contacts and case notes', () => {
    test('a health visitor records a note for health visitors only', async () => {
      const page = await newPage(ctx);
      await signIn(page, 'hv@westminster.example');
      await visit(page, FAMILY);
      await submit(page, page.getByRole('link', { name: 'Record a contact' }), { status: 200, label: 'record a contact' });
      // Nothing chosen: the GOV.UK error summary, and the note typed is kept.
      await page.getByLabel('What happened').fill(NOTE);
      await submit(page, button(page, 'Save contact'), { status: 422, label: 'contact refused' });
      await assertVisible(page.locator('.govuk-error-summary'));
      assert.equal(await page.getByLabel('What happened').inputValue(), NOTE);
      await page.getByLabel('Home visit').check();
      await page.locator('input[name="person"]').first().check();
      await page.getByLabel("The author's profession only").check();
      await submit(page, button(page, 'Save contact'), { status: 200, label: 'contacts after saving' });
      assert.equal(new URL(page.url()).pathname, `${FAMILY}/contacts`);
      await assertVisible(page.getByText(NOTE));
      await signOut(page);
      await closePage(page);
    });

    test("the school nurse sees the health visitor's contacts counted, not their restricted notes", async () => {
      const page = await newPage(ctx);
      await signIn(page, 'schoolnurse@westminster.example');
      await visit(page, FAMILY);
      await assertVisible(page.getByText(/\d+ contacts with the family in the last 12 months/));
      await submit(page, page.getByRole('link', { name: 'Contacts and case notes' }), { status: 200, label: 'contacts' });
      await assertVisible(page.getByText(/\d+ contacts recorded/));
      assert.ok((await page.getByText('Restricted', { exact: true }).count()) > 0, 'no restricted notes shown as such');
      assert.equal(await page.getByText(NOTE).count(), 0, "the school nurse reads the health visitor's note");
      assert.equal(await page.getByText(/Mum disclosed low mood/).count(), 0, "the school nurse reads the demo's health visitor note");
      await signOut(page);
      await closePage(page);
    });
  });
}
