// Page helpers shared by the journeys: every page visited is checked with axe.
import assert from 'node:assert/strict';
import { checkA11y } from './axe.mjs';
import { DEMO_PASSWORD } from './server.mjs';

/** A fresh browser context (its own cookies) and page against the server. */
export async function newPage(ctx) {
  const context = await ctx.browser.newContext({ baseURL: ctx.server.base });
  const page = await context.newPage();
  page.problems = [];
  // A CSP refusal or script error shows here; the journeys assert there are none.
  page.on('console', (m) => {
    // A 4xx page (a refusal, a form with errors) is logged as a failed load; those statuses are asserted where expected.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      page.problems.push(`console: ${m.text()} (${page.url()})`);
    }
  });
  // Every stylesheet, script, image and font the pages use must load.
  page.on('response', (r) => {
    const req = r.request();
    if (r.status() >= 400 && !req.isNavigationRequest() && !r.url().endsWith('/favicon.ico')) {
      page.problems.push(`${r.status()} for ${req.resourceType()} ${r.url()} (${page.url()})`);
    }
  });
  page.on('requestfailed', (req) => {
    if (!req.url().endsWith('/favicon.ico')) page.problems.push(`failed: ${req.url()} ${req.failure()?.errorText}`);
  });
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message} (${page.url()})`));
  return page;
}

export async function closePage(page) {
  const problems = page.problems;
  await page.context().close();
  assert.deepEqual(problems, [], `browser reported problems:\n${problems.join('\n')}`);
}

/** GET a path, expect a status (200 by default), and run axe on what is shown. */
export async function visit(page, path, { status = 200, axe = true } = {}) {
  const res = await page.goto(path);
  assert.equal(res.status(), status, `GET ${path} answered ${res.status()}, expected ${status}`);
  if (axe) await checkA11y(page, `GET ${path}`);
  return res;
}

/**
 * Clicks something that submits a form or follows a link, waits for the next
 * page, checks its status when given, and runs axe on it.
 */
export async function submit(page, locator, { status, axe = true, label } = {}) {
  const [res] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), locator.click()]);
  const code = res ? res.status() : 0;
  if (status !== undefined && code !== status) {
    const summary = page.locator('.govuk-error-summary');
    const why = (await summary.count()) ? `\n${await summary.first().innerText()}` : '';
    assert.fail(`${label ?? 'submit'} answered ${code} at ${page.url()}, expected ${status}${why}`);
  }
  if (axe) await checkA11y(page, label ?? `after submit to ${page.url()}`);
  return res;
}

export const button = (page, name) => page.getByRole('button', { name, exact: true });

export async function signIn(page, email) {
  await visit(page, '/login');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(DEMO_PASSWORD);
  await submit(page, button(page, 'Sign in'), { status: 200, label: `home of ${email}` });
  assert.ok(!new URL(page.url()).pathname.startsWith('/login'), `sign in as ${email} failed: still at ${page.url()}`);
  await assertVisible(page.getByText(/^Signed in as /));
}

export async function signOut(page) {
  await submit(page, page.getByRole('button', { name: /^Sign out/ }), { label: 'after sign out' });
  assert.equal(new URL(page.url()).pathname, '/login');
  // Signed out means signed out: a page behind sign-in sends us back to /login.
  await page.goto('/');
  assert.equal(new URL(page.url()).pathname, '/login', 'still signed in after signing out');
}

export async function assertVisible(locator, message) {
  assert.ok(await locator.first().isVisible(), message ?? `expected to see ${locator}`);
}

/** The id in the first link on the page whose href matches /prefix/{id}. */
export async function firstId(page, prefix) {
  for (const href of await page.locator(`main a[href^="${prefix}/"]`).evaluateAll((as) => as.map((a) => a.getAttribute('href')))) {
    const id = href.slice(prefix.length + 1).split(/[/?#]/)[0];
    if (/^\d+$/.test(id)) return id;
  }
  assert.fail(`no link to ${prefix}/{id} on ${page.url()}`);
}
