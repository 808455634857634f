// axe-core in the page under test. The app's CSP (script-src 'self') forbids
// inline script, so axe is not added as a <script> tag: it is evaluated
// through the DevTools protocol (page.evaluate), which CSP does not govern.
// The browser context keeps the app's real CSP (no bypassCSP).
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';

const require = createRequire(import.meta.url);
const axe = require('axe-core');

export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

function describe(violations) {
  return violations
    .map((v) => {
      const nodes = v.nodes
        .map((n) => `      - ${n.target.join(' ')}\n        ${n.html.slice(0, 300)}\n        ${(n.failureSummary || '').split('\n').join('\n        ')}`)
        .join('\n');
      return `  [${v.impact}] ${v.id}: ${v.help}\n    ${v.helpUrl}\n${nodes}`;
    })
    .join('\n');
}

/** How many pages axe has checked in this run. */
export const checked = { pages: 0 };

/** Runs axe on the page as it is now and fails, listing every violation, unless there are none. */
export async function checkA11y(page, label = page.url()) {
  const has = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!has) await page.evaluate(axe.source);
  const result = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
    AXE_TAGS,
  );
  checked.pages += 1;
  const v = result.violations;
  if (v.length > 0) {
    const text = `axe found ${v.length} accessibility violation(s) on ${label} (${page.url()}):\n${describe(v)}`;
    console.error(text);
    assert.fail(text);
  }
}
