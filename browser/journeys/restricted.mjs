// Journey 9: flags and restricted persons. The health visitor finds the
// Hartley family, raises a flag and sees it at the top of the family page;
// she marks the grandmother restricted, adds the social worker to the team,
// and the social worker sees the family with both women's addresses withheld.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, closePage, visit, submit, button, signIn, signOut, assertVisible } from '../lib/session.mjs';

export default function restricted(ctx) {
  describe('flags and restricted persons', () => {
    test('a flag is raised and seen; a restricted person’s address is withheld from another worker', async () => {
      const page = await newPage(ctx);
      await signIn(page, 'hv@westminster.example');
      await visit(page, '/search');
      await page.getByLabel('Name').fill('Carol Hartley');
      await submit(page, button(page, 'Search'), { status: 200, label: 'search results' });
      await submit(page, page.getByRole('link', { name: 'Hartley household', exact: true }).first(), { status: 200, label: 'the Hartley family' });
      const familyPath = new URL(page.url()).pathname;
      await assertVisible(page.getByText('41 Mulberry Road'), 'the lead sees the grandmother’s address');

      // Raise a flag on the family.
      await page.getByText('Raise a flag', { exact: true }).click();
      await page.locator('#flag-kind').selectOption('young_carer');
      await page.locator('#flag-description').fill('Carol helps care for Leo most days');
      await submit(page, button(page, 'Raise flag'), { status: 200, label: 'flag raised' });
      await assertVisible(page.locator('#flags-warning').getByText('Young carer'), 'the flag at the top of the page');

      // Add the social worker to the team.
      const sofia = await page.locator('#team-user option', { hasText: 'Sofia Mendes' }).first().getAttribute('value');
      await page.locator('#team-user').selectOption(sofia);
      await submit(page, button(page, 'Add to team'), { status: 200, label: 'social worker added' });

      // Mark the grandmother restricted.
      await submit(page, page.getByRole('link', { name: 'View Carol Hartley' }), { status: 200, label: 'Carol Hartley' });
      const carolPath = new URL(page.url()).pathname;
      await page.getByText('Restrict who sees their address').click();
      await submit(page, button(page, 'Mark as restricted'), { status: 200, label: 'restricted' });
      await assertVisible(page.getByText('41 Mulberry Road'), 'the marker still sees the address');
      await signOut(page);

      await signIn(page, 'socialworker@westminster.example');
      await visit(page, familyPath);
      await assertVisible(page.locator('#flags-warning').getByText('Young carer'));
      assert.equal(await page.getByText('41 Mulberry Road').count(), 0, 'the grandmother’s address is withheld');
      assert.equal(await page.getByText('12 Cedar Court').count(), 0, 'the mother’s address is withheld');
      assert.ok((await page.getByText('Address withheld: restricted').count()) >= 2);
      await assertVisible(page.getByText('Carol Hartley').first(), 'the name stays');
      await visit(page, carolPath);
      assert.equal(await page.getByText('41 Mulberry Road').count(), 0);
      await visit(page, `${carolPath}/edit`, { status: 404 });
      await visit(page, '/');
      await signOut(page);
      await closePage(page);
    });
  });
}
