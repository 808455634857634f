// Journey 2: a parent asks for help at /self-referral with no account, one
// question per page, and a triage officer decides the referral.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, closePage, visit, submit, button, signIn, signOut, assertVisible } from '../lib/session.mjs';
import { findInQueue, settlePeopleAndFamily, decide } from '../lib/triage.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const path = (page) => new URL(page.url()).pathname;

export default function selfReferral(ctx) {
  describe('self-referral', () => {
    let reference;

    test('a parent asks for help, from the start page to the confirmation', async () => {
      const page = await newPage(ctx);
      const cont = button(page, 'Continue');
      await visit(page, '/self-referral');
      await submit(page, button(page, 'Start now'), { status: 200, label: 'name question' });
      const started = Date.now();
      assert.equal(path(page), '/self-referral/name');

      await page.getByLabel('First name').fill('Robin');
      await page.getByLabel('Last name').fill('Testfield');
      await submit(page, cont, { status: 200, label: 'date of birth question' });
      assert.equal(path(page), '/self-referral/date-of-birth');

      // A date that does not exist: the GOV.UK error summary, and what was typed is kept.
      await page.getByLabel('Day').fill('31');
      await page.getByLabel('Month').fill('2');
      await page.getByLabel('Year').fill('1991');
      await submit(page, cont, { status: 422, label: 'date of birth with an error' });
      assert.equal(path(page), '/self-referral/date-of-birth');
      await assertVisible(page.locator('.govuk-error-summary'), 'no error summary for 31 February');
      assert.match(await page.locator('.govuk-error-summary').innerText(), /There is a problem/);
      await assertVisible(page.locator('.govuk-error-message'), 'no error message by the date');
      assert.match(await page.title(), /^Error: /);
      assert.equal(await page.getByLabel('Day').inputValue(), '31');
      assert.equal(await page.getByLabel('Month').inputValue(), '2');
      assert.equal(await page.getByLabel('Year').inputValue(), '1991');
      await page.getByLabel('Day').fill('14');
      await page.getByLabel('Month').fill('6');
      await submit(page, cont, { status: 200, label: 'address question' });
      assert.equal(path(page), '/self-referral/address');

      // A postcode no hub reaches: the service asks which council.
      await page.getByLabel('Address line 1').fill('2 Mile End Road');
      await page.getByLabel('Postcode').fill('E1 4NS');
      await submit(page, cont, { status: 200, label: 'council question' });
      assert.equal(path(page), '/self-referral/council');
      await page.getByLabel('Westminster City Council').check();
      await submit(page, cont, { status: 200, label: 'contact question' });
      assert.equal(path(page), '/self-referral/contact');

      await page.getByLabel('Phone number').fill('07700 900123');
      await page.getByLabel('Email address').fill('robin.testfield@example.com');
      await page.getByRole('radio', { name: 'Yes', exact: true }).check();
      // With no one added yet, the service asks straight away about the first person.
      await submit(page, cont, { status: 200, label: 'a person in the family' });
      assert.equal(path(page), '/self-referral/people/new');
      await page.getByLabel('First name').fill('Sky');
      await page.getByLabel('Last name').fill('Testfield');
      await page.getByLabel('A child', { exact: true }).check();
      await page.getByLabel('Day').fill('3');
      await page.getByLabel('Month').fill('9');
      await page.getByLabel('Year').fill(String(new Date().getFullYear() - 4));
      await submit(page, cont, { status: 200, label: 'people, with one added' });
      assert.equal(path(page), '/self-referral/people');
      await assertVisible(page.getByText('Sky Testfield'));
      // Add a second person, a partner, through the question on the people page.
      await page.getByRole('radio', { name: 'Yes', exact: true }).check();
      await submit(page, cont, { status: 200, label: 'a second person' });
      assert.equal(path(page), '/self-referral/people/new');
      await page.getByLabel('First name').fill('Alex');
      await page.getByLabel('Last name').fill('Testfield');
      await page.getByLabel('My partner', { exact: true }).check();
      await page.getByLabel('Day').fill('2');
      await page.getByLabel('Month').fill('11');
      await page.getByLabel('Year').fill('1989');
      await submit(page, cont, { status: 200, label: 'people, with two added' });
      assert.equal(path(page), '/self-referral/people');
      await assertVisible(page.getByText('Alex Testfield'));
      await page.getByRole('radio', { name: /^No/ }).check();
      await submit(page, cont, { status: 200, label: 'help question' });
      assert.equal(path(page), '/self-referral/help');

      await page.getByRole('checkbox').first().check();
      await submit(page, cont, { status: 200, label: 'your words question' });
      assert.equal(path(page), '/self-referral/your-words');
      await page.getByLabel('Tell us in your own words').fill('We have just moved and would like help finding a nursery place and a stay and play group.');
      await submit(page, cont, { status: 200, label: 'consent question' });
      assert.equal(path(page), '/self-referral/consent');
      await page.getByRole('radio', { name: 'Yes', exact: true }).check();
      await submit(page, cont, { status: 200, label: 'check your answers' });
      assert.equal(path(page), '/self-referral/check');
      const answers = await page.locator('#check-answers').innerText();
      for (const s of ['Robin Testfield', '14 June 1991', 'E1 4NS', 'Westminster City Council', 'Sky Testfield']) {
        assert.ok(answers.includes(s), `check your answers lacks ${s}:\n${answers}`);
      }

      // A send sooner than 5 s after the start is refused as a likely robot.
      const wait = 5_500 - (Date.now() - started);
      if (wait > 0) await sleep(wait);
      await submit(page, button(page, 'Send request'), { status: 200, label: 'confirmation' });
      assert.equal(path(page), '/self-referral/confirmation');
      await assertVisible(page.getByRole('heading', { name: 'Request sent' }));
      reference = (await page.locator('.govuk-panel__body strong').innerText()).trim();
      assert.match(reference, /^KR-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
      await closePage(page);
    });

    test('a triage officer finds it by its reference and decides it', async (t) => {
      assert.ok(reference, 'no reference from the self-referral');
      const page = await newPage(ctx);
      await signIn(page, 'triage@westminster.example');
      const link = await findInQueue(page, reference, 'self');
      assert.ok(link, `${reference} not found in the open self-referral queue`);
      await submit(page, link, { status: 200, label: `referral ${reference}` });
      const referralPath = path(page);
      assert.match(referralPath, /^\/referrals\/\d+$/);
      await assertVisible(page.getByRole('heading', { name: new RegExp(`Referral ${reference}`) }));

      await settlePeopleAndFamily(page);
      await submit(page, page.getByRole('link', { name: 'See the 360° profile' }), { status: 200, label: '360° profile from triage' });
      assert.match(path(page), /^\/families\/\d+\/profile$/);
      await visit(page, referralPath);

      await decide(page, {
        level: 'Level 1: universal',
        outcome: 'Signpost to a service or the universal offer',
        signpost: 'Stay and play at Bayswater Family Hub; nursery places team',
        rationale: 'Universal need: a family new to the area asking for a nursery place and a group. No concerns in the 360° profile.',
      });
      assert.equal(path(page), referralPath);
      await assertVisible(page.getByText('Signpost to a service or the universal offer'));

      // Gone from the open queue.
      assert.equal(await findInQueue(page, reference, 'self'), null, `${reference} is still in the open queue`);
      await signOut(page);
      await closePage(page);
    });
  });
}
