// Journey 8: transitions. The early help worker follows "Transitions" to the
// young people approaching 18, finds one with no transition-plan task yet,
// makes the missing tasks (pressing again makes none), and opens the Year 6
// list; the manager sees the same young people.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, closePage, visit, submit, button, signIn, signOut, assertVisible } from '../lib/session.mjs';

export default function transitions(ctx) {
  describe('transitions', () => {
    test('an early help worker makes the missing transition-plan tasks and reads the Year 6 list', async () => {
      const page = await newPage(ctx);
      await signIn(page, 'earlyhelp@westminster.example');
      await visit(page, '/');
      await submit(page, page.getByRole('link', { name: 'Transitions', exact: true }), { status: 200, label: 'transitions' });
      await assertVisible(page.getByRole('heading', { name: 'Young people approaching 18' }));
      assert.ok((await page.getByRole('cell', { name: 'No task yet' }).count()) > 0, 'a young person without a task');
      await submit(page, button(page, 'Make the missing transition-plan tasks'), { status: 200, label: 'tasks made' });
      await assertVisible(page.getByText(/transition-plan tasks? (was|were) made\./));
      assert.equal(await page.getByRole('cell', { name: 'No task yet' }).count(), 0, 'every young person has a task');
      assert.equal(await button(page, 'Make the missing transition-plan tasks').count(), 0, 'nothing left to make');
      await submit(page, page.getByRole('link', { name: 'Year 6: children moving to secondary school' }), { status: 200, label: 'year 6' });
      await assertVisible(page.getByRole('heading', { name: 'Year 6: moving to secondary school' }));
      assert.ok((await page.locator('tbody tr').count()) > 0, 'Year 6 children listed');
      await signOut(page);
      await closePage(page);
    });

    test('a manager sees the young people approaching 18 in their organisation’s families', async () => {
      const page = await newPage(ctx);
      await signIn(page, 'manager@westminster.example');
      await visit(page, '/transitions');
      assert.ok((await page.locator('tbody tr').count()) > 0, 'young people listed');
      await signOut(page);
      await closePage(page);
    });
  });
}
