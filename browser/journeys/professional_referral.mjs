// Journey 3: a voluntary sector worker refers a family, follows its status and
// outcome, and is never shown a family's 360° profile.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, closePage, visit, submit, button, signIn, signOut, firstId, assertVisible } from '../lib/session.mjs';
import { findInQueue, settlePeopleAndFamily, decide } from '../lib/triage.mjs';

const path = (page) => new URL(page.url()).pathname;

export default function professionalReferral(ctx) {
  describe('professional referral by a VCS worker', () => {
    let reference;
    let referralPath;
    let familyPath;

    test('the VCS worker makes a referral and sends it', async () => {
      const page = await newPage(ctx);
      await signIn(page, 'vcs@westminster.example');
      await visit(page, '/referrals');
      await submit(page, button(page, 'Make a referral'), { status: 200, label: 'new referral draft' });
      referralPath = path(page).replace(/\/edit$/, '');
      assert.match(referralPath, /^\/referrals\/\d+$/);
      reference = (await page.locator('.govuk-caption-l').innerText()).match(/KR-[A-Z0-9]{4}-[A-Z0-9]{4}/)[0];

      // Sending with nothing filled in: the error summary.
      await submit(page, button(page, 'Send referral'), { status: 422, label: 'draft sent empty' });
      await assertVisible(page.locator('.govuk-error-summary'), 'no error summary for an empty referral');

      // Find someone the charity works with: name and date of birth (none match this one).
      await page.getByText('Find someone you already work with', { exact: true }).click();
      await page.getByLabel('Name', { exact: true }).fill('Jordan Browserly');
      const fdob = page.locator('#find_dob');
      await fdob.getByLabel('Day').fill('12');
      await fdob.getByLabel('Month').fill('1');
      await fdob.getByLabel('Year').fill('2017');
      await submit(page, button(page, 'Search'), { status: 200, label: 'draft with search results' });
      await assertVisible(page.getByText('No one you work with matches'));
      assert.equal(await page.locator('#find_dob_year').inputValue(), '2017', 'the date searched for is not kept');

      // Add someone new.
      await page.getByText('Add someone new', { exact: true }).click();
      await page.getByLabel('Role in the family').selectOption({ label: 'Child' });
      await page.getByLabel('First name').fill('Jordan');
      await page.getByLabel('Last name').fill('Browserly');
      const dob = page.locator('#dob');
      await dob.getByLabel('Day').fill('12');
      await dob.getByLabel('Month').fill('1');
      await dob.getByLabel('Year').fill(String(new Date().getFullYear() - 9));
      await page.locator('#sex').getByRole('radio').first().check();
      await page.getByLabel('Postcode (optional)').fill('W2 5AB');
      await submit(page, button(page, 'Add person'), { status: 200, label: 'draft with a person' });
      await assertVisible(page.getByText('Jordan Browserly'));

      // Needs, what is happening, urgency, consent, contact.
      await page.getByRole('checkbox', { name: /school|education/i }).first().check();
      await page.getByLabel('What is happening for the family, and what help is needed').fill(
        'Jordan comes to our homework club and has missed a lot of school this term. Their parent would like help with attendance.');
      await page.getByLabel('Routine').check();
      await page.locator('#family_aware').getByLabel('Yes').check();
      await page.locator('#consent_given').getByLabel('Yes').check();
      await page.getByLabel('If yes, who gave consent').fill('Parent');
      const on = page.locator('#consent_on');
      const today = new Date();
      await on.getByLabel('Day').fill(String(today.getDate()));
      await on.getByLabel('Month').fill(String(today.getMonth() + 1));
      await on.getByLabel('Year').fill(String(today.getFullYear()));
      await page.getByLabel('If yes, who they agreed information can be shared with').fill('The family hub and the school');
      await page.getByLabel('Your role').fill('Youth worker');
      await page.getByLabel('Telephone').fill('020 7946 0000');
      await page.getByLabel('Email', { exact: true }).fill('vcs@westminster.example');
      await submit(page, button(page, 'Send referral'), { status: 200, label: 'referral sent' });
      assert.equal(path(page), referralPath);
      await assertVisible(page.getByText(`Referral ${reference} sent to triage`));
      await assertVisible(page.locator('h1 .govuk-tag', { hasText: 'Awaiting triage' }));

      await visit(page, '/referrals');
      const row = page.getByRole('row', { name: new RegExp(reference) });
      assert.match(await row.innerText(), /Awaiting triage/);
      await signOut(page);
      await closePage(page);
    });

    test('triage decides it', async () => {
      assert.ok(reference, 'no reference from the professional referral');
      const page = await newPage(ctx);
      await signIn(page, 'triage@westminster.example');
      const link = await findInQueue(page, reference, 'professional');
      assert.ok(link, `${reference} not found in the open queue`);
      await submit(page, link, { status: 200, label: `referral ${reference}` });
      familyPath = await settlePeopleAndFamily(page);
      await decide(page, {
        level: 'Level 1: universal',
        outcome: 'Signpost to a service or the universal offer',
        signpost: 'School attendance support service',
        rationale: 'Attendance only; school and family agree a plan. Nothing else in the 360° profile.',
      });
      await signOut(page);
      await closePage(page);
    });

    test('the VCS worker sees the status and outcome', async () => {
      const page = await newPage(ctx);
      await signIn(page, 'vcs@westminster.example');
      await visit(page, '/notifications');
      await assertVisible(page.getByText(reference).first(), 'no notification of the outcome');
      await visit(page, '/referrals');
      const row = page.getByRole('row', { name: new RegExp(reference) });
      assert.match(await row.innerText(), /Decided/);
      assert.match(await row.innerText(), /Signpost/);
      await visit(page, referralPath);
      await assertVisible(page.locator('h1 .govuk-tag', { hasText: 'Decided' }));
      await assertVisible(page.getByText('School attendance support service'));
      assert.equal(await page.getByText(/Attendance only; school and family agree a plan/).count(), 0, 'the referrer sees the rationale');
      // Referring a family gives no working relationship with it: its record and
      // 360° profile are refused (as not found, like a record that does not exist).
      assert.ok(familyPath, 'no family from triage');
      await visit(page, familyPath, { status: 404 });
      await visit(page, `${familyPath}/profile`, { status: 404 });
      await visit(page, '/');

      await signOut(page);
      await closePage(page);
    });

    // The policy's ViewProfile (domain::access) keeps the 360° profile from
    // voluntary sector workers unless they lead the family's plan.
    test('a VCS worker is never shown a 360° profile', async () => {
      const page = await newPage(ctx);
      await signIn(page, 'vcs@westminster.example');
      // A family the charity supports: its page, but not its 360° profile.
      await visit(page, '/');
      const familyId = await firstId(page, '/families');
      await visit(page, `/families/${familyId}`);
      assert.equal(await page.getByRole('link', { name: '360° profile' }).count(), 0, 'a VCS worker is offered the 360° profile');
      const res = await page.goto(`/families/${familyId}/profile`);
      assert.ok([403, 404].includes(res.status()), `a VCS worker's GET of the 360° profile answered ${res.status()}`);
      await assertVisible(page.locator('h1'));
      assert.equal(await page.getByRole('heading', { name: /360/ }).count(), 0, 'the refusal page shows a profile');
      const { checkA11y } = await import('../lib/axe.mjs');
      await checkA11y(page, 'profile refused to a VCS worker');
      await visit(page, '/');
      await signOut(page);
      await closePage(page);
    });
  });
}
