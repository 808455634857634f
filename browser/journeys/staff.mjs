// Journey 1: staff sign in and out, and the pages their roles use.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, closePage, visit, submit, button, signIn, signOut, firstId, assertVisible } from '../lib/session.mjs';

export default function staff(ctx) {
  describe('staff pages', () => {
    test('the sign-in page, and a wrong password', async () => {
      const page = await newPage(ctx);
      await visit(page, '/login');
      await page.getByLabel('Email address').fill('hv@westminster.example');
      await page.getByLabel('Password').fill('not the password');
      await submit(page, button(page, 'Sign in'), { label: 'sign-in refused' });
      await assertVisible(page.locator('.govuk-error-summary'), 'no error summary for a wrong password');
      assert.equal(await page.getByLabel('Email address').inputValue(), 'hv@westminster.example');
      await closePage(page);
    });

    test('health visitor: home, search, a family, its 360° profile, referrals, notifications', async () => {
      const page = await newPage(ctx);
      await signIn(page, 'hv@westminster.example');
      await visit(page, '/');
      const familyId = await firstId(page, '/families');
      await visit(page, '/search');
      await page.getByLabel('Name').fill('Smith');
      await submit(page, button(page, 'Search'), { status: 200, label: 'search results' });
      await assertVisible(page.getByRole('heading', { name: /(people|person) found/ }));
      await visit(page, `/families/${familyId}`);
      await submit(page, page.getByRole('link', { name: '360° profile' }), { status: 200, label: '360° profile' });
      assert.equal(new URL(page.url()).pathname, `/families/${familyId}/profile`);
      await visit(page, '/referrals');
      await visit(page, '/notifications');
      await signOut(page);
      await closePage(page);
    });

    test('triage officer: the queue, a referral, panels', async () => {
      const page = await newPage(ctx);
      await signIn(page, 'triage@westminster.example');
      await visit(page, '/triage');
      const referralId = await firstId(page, '/referrals');
      await visit(page, `/referrals/${referralId}`);
      await visit(page, '/triage?claimed=unclaimed&route=professional');
      await visit(page, '/panels');
      // Arrange a panel meeting next week, through the form as the page draws it.
      const next = new Date(Date.now() + 7 * 86_400_000);
      await page.getByLabel('Name', { exact: true }).fill('Browser suite panel');
      const on = page.locator('#on');
      await on.getByLabel('Day').fill(String(next.getDate()));
      await on.getByLabel('Month').fill(String(next.getMonth() + 1));
      await on.getByLabel('Year').fill(String(next.getFullYear()));
      await submit(page, button(page, 'Arrange meeting'), { status: 200, label: 'the new panel meeting' });
      assert.match(new URL(page.url()).pathname, /^\/panels\/\d+$/);
      await assertVisible(page.getByText('Browser suite panel'));
      await visit(page, '/notifications');
      await signOut(page);
      await closePage(page);
    });

    test('VCS worker: home, a family, referrals', async () => {
      const page = await newPage(ctx);
      await signIn(page, 'vcs@westminster.example');
      const familyId = await firstId(page, '/families');
      await visit(page, `/families/${familyId}`);
      await visit(page, '/referrals');
      await visit(page, '/notifications');
      await signOut(page);
      await closePage(page);
    });

    test('manager: home, a family and who viewed it, panels', async () => {
      const page = await newPage(ctx);
      await signIn(page, 'manager@westminster.example');
      const familyId = await firstId(page, '/families');
      await visit(page, `/families/${familyId}`);
      await visit(page, `/families/${familyId}/access-log`);
      await visit(page, '/panels');
      await visit(page, '/referrals');
      await signOut(page);
      await closePage(page);
    });

    test('administrator: users, organisations, triage time', async () => {
      const page = await newPage(ctx);
      await signIn(page, 'admin@westminster.example');
      await visit(page, '/admin/users');
      await visit(page, '/admin/organisations');
      await visit(page, '/admin/triage');
      await visit(page, '/admin/assessment-areas');
      await assertVisible(page.locator('input[value="Our faith and our community"]'), "Westminster's own area");
      await signOut(page);
      await closePage(page);
    });
  });
}
