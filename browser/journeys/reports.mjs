// Journey: the report builder (issue 7, F16). The demo manager builds a
// report of contacts by family hub and month, sees its line chart and the
// table of the same figures, saves it, shares it with their organisation and
// downloads it as CSV — whose rows are the table's. The borough's analyst
// finds the shared report and reaches no family record.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { newPage, closePage, visit, submit, button, signIn, signOut, assertVisible } from '../lib/session.mjs';

/** RFC 4180 lines, enough for a report: quoted fields with doubled quotes. */
function parseCsv(text) {
  const rows = [];
  for (const line of text.split(/\r?\n/)) {
    if (line === '') continue;
    const cells = [];
    let cell = '';
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const ch = line[i];
      if (quoted) {
        if (ch === '"' && line[i + 1] === '"') { cell += '"'; i++; }
        else if (ch === '"') quoted = false;
        else cell += ch;
      } else if (ch === '"') quoted = true;
      else if (ch === ',') { cells.push(cell); cell = ''; }
      else cell += ch;
    }
    cells.push(cell);
    rows.push(cells);
  }
  return rows;
}

/** The report table's cells, header row first, as shown. */
async function tableCells(page) {
  return page.locator('#report-table tr').evaluateAll((trs) =>
    trs.map((tr) => Array.from(tr.querySelectorAll('th, td')).map((c) => c.textContent.trim())));
}

export default function reports(ctx) {
  describe('reports', () => {
    test('a manager builds, saves, shares and exports a report of contacts by hub and month', async () => {
      const page = await newPage(ctx);
      await signIn(page, 'manager@westminster.example');
      await submit(page, page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Reports', exact: true }), { status: 200, label: 'reports' });
      await assertVisible(page.getByRole('heading', { name: 'Reports', level: 1 }));
      await submit(page, page.getByRole('link', { name: 'Build a report' }), { status: 200, label: 'choose a dataset' });
      await page.getByLabel('Contacts', { exact: true }).check();
      await submit(page, button(page, 'Continue'), { status: 200, label: 'the builder' });
      await page.getByLabel('Group by').selectOption('hub');
      await page.getByLabel('Then by (optional)').selectOption('month');
      assert.ok(await page.getByLabel('Number of contacts').isChecked(), 'count is ticked by default');
      await page.getByLabel('Line chart (over months)').check();
      await submit(page, button(page, 'Show report'), { status: 200, label: 'the preview' });
      await assertVisible(page.getByRole('img', { name: /Line chart of number of contacts by family hub and month/ }));
      const preview = await tableCells(page);
      assert.deepEqual(preview[0], ['Family hub', 'Month', 'Number of contacts']);
      assert.ok(preview.length > 3, 'a row per hub and month');
      assert.ok(preview.some((r) => r[0] === 'Church Street Family Hub'), 'hubs by name');
      assert.equal(preview[preview.length - 1][0], 'Total');

      await page.getByLabel('Report name').fill('Contacts by hub and month (journey)');
      await submit(page, button(page, 'Save report'), { status: 200, label: 'the saved report' });
      assert.match(new URL(page.url()).pathname, /^\/reports\/\d+$/);
      await assertVisible(page.getByRole('heading', { name: 'Contacts by hub and month (journey)' }));
      await assertVisible(page.getByText('only you can see it'));
      const saved = await tableCells(page);
      assert.deepEqual(saved, preview, 'the saved report shows the previewed figures');

      await submit(page, page.getByRole('button', { name: /^Share with / }), { status: 200, label: 'shared' });
      await assertVisible(page.getByText(/shared with /));
      await assertVisible(button(page, 'Stop sharing'));

      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: /Download as CSV/ }).click(),
      ]);
      assert.match(download.suggestedFilename(), /^report-\d+\.csv$/);
      const csv = parseCsv(await readFile(await download.path(), 'utf8'));
      assert.deepEqual(csv[0], ['Family hub', 'Month', 'Number of contacts'], 'the CSV header row');
      assert.deepEqual(csv, saved, 'the CSV is the table');

      await submit(page, page.getByRole('link', { name: 'All reports' }), { status: 200, label: 'the list' });
      await assertVisible(page.getByRole('link', { name: 'Contacts by hub and month (journey)' }));
      await signOut(page);
      await closePage(page);
    });

    test('the analyst opens the shared report and reaches no family', async () => {
      const page = await newPage(ctx);
      await signIn(page, 'analyst@westminster.example');
      await assertVisible(page.getByRole('heading', { name: 'Your work as analyst' }));
      await submit(page, page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Reports', exact: true }), { status: 200, label: 'reports' });
      await submit(page, page.getByRole('link', { name: 'Contacts by hub and month', exact: true }), { status: 200, label: 'a shared report' });
      await assertVisible(page.getByRole('img', { name: /chart of number of contacts/ }));
      assert.equal(await page.getByRole('button', { name: 'Delete this report' }).count(), 0, 'only its owner deletes it');
      await visit(page, '/families/1', { status: 404 });
      await visit(page, '/search');
      await signOut(page);
      await closePage(page);
    });
  });
}
