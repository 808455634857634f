// The triage officer's side: find a referral by its reference, match its
// people, choose the family and record a decision.
import assert from 'node:assert/strict';
import { visit, submit, button, assertVisible } from './session.mjs';

/** Pages through the open queue (filtered to a route) looking for a reference; the link to it, or null. */
export async function findInQueue(page, reference, route) {
  let path = `/triage?route=${route}`;
  for (let n = 0; n < 100; n++) {
    await visit(page, path);
    const link = page.getByRole('link', { name: reference, exact: true });
    if (await link.count()) return link;
    const next = page.locator('a[rel="next"]');
    if (!(await next.count())) return null;
    path = await next.getAttribute('href');
  }
  return null;
}

/**
 * On an open referral's page: claim it, settle every person (link the first
 * possible match, or create a new record), then choose the family.
 */
export async function settlePeopleAndFamily(page) {
  await submit(page, button(page, 'Claim'), { status: 200, label: 'referral after claim' });
  await assertVisible(page.getByRole('button', { name: 'Release to the queue' }));
  for (let guard = 0; guard < 12; guard++) {
    const link = page.getByRole('button', { name: /^This is them/ });
    const create = page.getByRole('button', { name: /^Create a new record for / });
    if (await link.count()) {
      await submit(page, link.first(), { status: 200, label: 'referral after linking a match' });
    } else if (await create.count()) {
      await submit(page, create.first(), { status: 200, label: 'referral after creating a record' });
    } else break;
  }
  const use = button(page, 'Use this family');
  if (await use.count()) {
    await submit(page, use, { status: 200, label: 'referral after choosing the family' });
  }
  const profile = page.getByRole('link', { name: 'See the 360° profile' });
  await assertVisible(profile, 'no 360° profile link once the family is chosen');
  // The family's path, /families/{id}.
  return (await profile.getAttribute('href')).replace(/\/profile$/, '');
}

/** Records a decision at /referrals/{id}/decision, first showing the rationale is mandatory. */
export async function decide(page, { level, outcome, signpost, rationale }) {
  await submit(page, page.getByRole('link', { name: 'Record the decision' }), { status: 200, label: 'decision form' });
  assert.match(new URL(page.url()).pathname, /^\/referrals\/\d+\/decision$/);
  await page.getByLabel(level, { exact: true }).check();
  await page.getByLabel(outcome, { exact: true }).check();
  if (signpost) await page.getByLabel('If signposting: the service or offer').fill(signpost);
  // No rationale: refused, with the GOV.UK error summary, and the choices kept.
  await submit(page, button(page, 'Record decision'), { status: 422, label: 'decision without rationale' });
  await assertVisible(page.locator('.govuk-error-summary'), 'no error summary for a missing rationale');
  await assertVisible(page.locator('.govuk-error-summary a[href="#rationale"]'));
  assert.ok(await page.getByLabel(level, { exact: true }).isChecked(), 'level of need not kept');
  await page.getByLabel('Rationale').fill(rationale);
  await submit(page, button(page, 'Record decision'), { status: 200, label: 'referral after the decision' });
  assert.match(new URL(page.url()).pathname, /^\/referrals\/\d+$/);
  await assertVisible(page.locator('h1 .govuk-tag', { hasText: 'Decided' }), 'referral does not show as decided');
}
