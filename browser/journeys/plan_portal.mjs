// Journey 5: the family-led assessment, one family plan, and the family
// portal. The lead professional records an assessment and a plan with the
// family, invites a parent, and gives them a one-time code; the parent signs
// in to the portal, sees the plan and adds a comment; the lead sees it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, closePage, visit, submit, button, signIn, signOut, assertVisible } from '../lib/session.mjs';

// The demo's early help worker leads each borough's first family, the family of eight.
const FAMILY = '/families/1';
const GOAL = 'We have breakfast together before school';
const ACTION = 'Get up twenty minutes earlier on school days';
const COMMENT = 'Three mornings this week, the children loved it';

export default function planAndPortal(ctx) {
  describe('assessment, plan and family portal', () => {
    const shared = {};

    test('the lead professional records an assessment and a plan, and invites a parent', async () => {
      const page = await newPage(ctx);
      await signIn(page, 'earlyhelp@westminster.example');
      await visit(page, FAMILY);
      // The family-led assessment: every area scored, in the family's words.
      await submit(page, page.getByRole('link', { name: 'Family assessments' }), { status: 200, label: 'assessments' });
      await visit(page, `${FAMILY}/assessments/new`);
      for (const radio of await page.locator('input.govuk-radios__input[value="6"]').all()) await radio.check();
      await page.getByLabel('What we want to change').fill('Calmer mornings before school');
      await submit(page, button(page, 'Save the assessment'), { status: 200, label: 'assessments after saving' });
      await assertVisible(page.getByText('Calmer mornings before school'));

      // Who in the family may use the portal: the first of them will own an action.
      await visit(page, `${FAMILY}/portal`);
      const parentName = (await page.locator('#person option').nth(1).innerText()).trim();

      // The plan: a goal without words is refused, then added; an action for a parent.
      await visit(page, `${FAMILY}/plan`);
      await submit(page, page.getByRole('link', { name: 'Add a goal' }), { status: 200, label: 'add a goal' });
      await submit(page, button(page, 'Add the goal'), { status: 422, label: 'goal refused' });
      await assertVisible(page.locator('.govuk-error-summary'));
      await page.getByLabel("The goal, in the family's words").fill(GOAL);
      await page.getByLabel('Area of family life').selectOption('education');
      await submit(page, button(page, 'Add the goal'), { status: 200, label: 'plan after the goal' });
      await assertVisible(page.getByText(GOAL));
      await submit(page, page.getByRole('link', { name: 'Add an action', exact: true }).first(), { status: 200, label: 'add an action' });
      await page.getByLabel('Goal', { exact: true }).selectOption({ label: GOAL });
      await page.getByLabel('What will be done').fill(ACTION);
      await page.getByLabel('Who will do it').selectOption({ label: parentName });
      const next = new Date(Date.now() + 21 * 86400000);
      await page.getByLabel('Day').fill(String(next.getDate()));
      await page.getByLabel('Month').fill(String(next.getMonth() + 1));
      await page.getByLabel('Year').fill(String(next.getFullYear()));
      await submit(page, button(page, 'Add the action'), { status: 200, label: 'plan after the action' });
      await assertVisible(page.getByText(ACTION));
      await visit(page, `${FAMILY}/plan/review`);
      await visit(page, `${FAMILY}/plan/versions`);
      await assertVisible(page.getByText('Added an action').first());

      // Invite a parent in person: a one-time code, shown once.
      await visit(page, `${FAMILY}/portal`);
      const who = page.getByLabel('Who to invite');
      await who.selectOption({ label: parentName });
      await submit(page, button(page, 'Invite and make a code'), { status: 200, label: 'invited' });
      shared.code = (await page.locator('.app-code').innerText()).trim();
      assert.match(shared.code, /^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
      await signOut(page);
      await closePage(page);
    });

    test('the parent sees the plan in the portal and adds a comment', async () => {
      const page = await newPage(ctx);
      await visit(page, '/portal/sign-in');
      await page.getByLabel('Your code').fill('WRONG-CODE');
      await submit(page, button(page, 'Sign in'), { status: 422, label: 'portal code refused' });
      await page.getByLabel('Your code').fill(shared.code.toLowerCase());
      await submit(page, button(page, 'Sign in'), { status: 200, label: 'portal home' });
      assert.equal(new URL(page.url()).pathname, '/portal');
      await assertVisible(page.getByText(GOAL));
      await assertVisible(page.getByText(ACTION));
      await assertVisible(page.getByText('Your lead professional'));
      await page.getByLabel(`Add a comment on ${ACTION}`).fill(COMMENT);
      await page.getByLabel('How is it going?').last().selectOption('in_progress');
      await submit(page, button(page, `Save your comment on ${ACTION}`), { status: 200, label: 'portal after comment' });
      await assertVisible(page.getByText(COMMENT));
      await visit(page, '/portal/access');
      await assertVisible(page.getByText('They are your lead professional').first());
      await submit(page, button(page, 'Sign out'), { label: 'portal signed out' });
      await page.goto('/portal');
      assert.equal(new URL(page.url()).pathname, '/portal/sign-in', 'still signed in to the portal');
      await closePage(page);
    });

    test("the lead professional sees the family's comment on the plan", async () => {
      const page = await newPage(ctx);
      await signIn(page, 'earlyhelp@westminster.example');
      await visit(page, `${FAMILY}/plan`);
      await assertVisible(page.getByText(COMMENT, { exact: false }));
      await visit(page, '/actions/overdue');
      await signOut(page);
      await closePage(page);
    });
  });
}
