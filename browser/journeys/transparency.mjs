// Journey 9: transparency. The privacy officer searches the audit trail (a
// bad date is named; by action; by user), then finds the parent the demo
// printed by their person number and opens their subject access request
// bundle. Every page is axe-checked.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, closePage, visit, submit, button, signIn, signOut, assertVisible } from '../lib/session.mjs';

export default function transparency(ctx) {
  describe('transparency', () => {
    test('the privacy officer searches the audit trail and opens a subject access request bundle', async () => {
      const match = /westminster, as its privacy officer\): \/privacy\/sar\/(\d+)/.exec(ctx.server.output());
      assert.ok(match, 'the demo names a subject access request worth reading');
      const person = match[1];
      const page = await newPage(ctx);
      await signIn(page, 'privacy@westminster.example');
      await visit(page, '/privacy/audit');
      await assertVisible(page.getByRole('heading', { name: 'Audit search' }));

      // A date that does not exist is named, and nothing typed is lost.
      await page.getByLabel('Day').first().fill('31');
      await page.getByLabel('Month').first().fill('2');
      await page.getByLabel('Year').first().fill('2025');
      await submit(page, button(page, 'Search'), { status: 422, label: 'audit search with a bad date' });
      await assertVisible(page.locator('.govuk-error-summary'));
      assert.equal(await page.getByLabel('Day').first().inputValue(), '31');

      // By action: the reads of the demo's families.
      await page.getByLabel('Day').first().fill('');
      await page.getByLabel('Month').first().fill('');
      await page.getByLabel('Year').first().fill('');
      await page.getByLabel('What they did').selectOption('read');
      await submit(page, button(page, 'Search'), { status: 200, label: 'audit search by action' });
      await assertVisible(page.getByRole('heading', { name: /^\d+ events?$/ }));
      assert.ok((await page.locator('tbody tr').count()) > 0, 'reads listed');
      await assertVisible(page.getByText('They are in the team around the family'));

      // By user: the officer's own searches are in the trail too.
      await page.getByLabel('What they did').selectOption('search');
      await page.getByLabel('Email address of the user').fill('privacy@westminster.example');
      await submit(page, button(page, 'Search'), { status: 200, label: 'audit search by user' });
      assert.ok((await page.locator('tbody tr').count()) > 0, 'the searches just made are listed');
      await assertVisible(page.getByRole('link', { name: 'Download this search as a spreadsheet (CSV)' }));

      // The subject access request: found by person number, the bundle opened.
      await submit(page, page.getByRole('link', { name: 'Subject access requests' }), { status: 200, label: 'find a subject' });
      await page.getByLabel('Or their person number').fill(person);
      await submit(page, button(page, 'Find'), { status: 200, label: 'subject access request bundle' });
      assert.equal(new URL(page.url()).pathname, `/privacy/sar/${person}`);
      await assertVisible(page.getByRole('heading', { name: 'Identity' }));
      await assertVisible(page.getByRole('heading', { name: 'Contacts they were present at' }));
      await assertVisible(page.getByRole('link', { name: 'Download as JSON' }));
      await signOut(page);
      await closePage(page);
    });
  });
}
