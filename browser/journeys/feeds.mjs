// Journey 13: the feeds. The data officer uploads a month's live births
// (a missing file is named first), watches the import finish and reads the
// rejected row's line and reason; opens match review, compares a record with
// its candidate field by field, links it and undoes the link; the manager
// reads the hubs' reach; a health visitor reads the universal pathway's due
// and overdue list for one hub. Every page is axe-checked.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newPage, closePage, visit, submit, button, signIn, signOut, assertVisible, firstId } from '../lib/session.mjs';

const BIRTHS = `birth_id,nhs_number,given_name,family_name,date_of_birth,sex,mother_nhs_number,mother_given_name,mother_family_name,mother_date_of_birth,address,postcode,consent
JB-1,,Rosa,Ferreira,2026-11-02,F,,Lucia,Ferreira,1993-03-03,5 Shirland Road,W9 2JH,yes
JB-2,,Kofi,Mensah,2026-11-31,M,,Ama,Mensah,1990-06-06,7 Elgin Avenue,W9 1AA,yes
`;

export default function feeds(ctx) {
  describe('feeds', () => {
    test('the data officer imports live births, works the match review, and the manager reads the reach', async () => {
      const page = await newPage(ctx);
      await signIn(page, 'data@westminster.example');
      await assertVisible(page.getByRole('heading', { name: 'Your work as data officer' }));
      await submit(page, page.getByRole('link', { name: 'Imports', exact: true }), { status: 200, label: 'imports' });

      // No file chosen: the form says so, and keeps the choices made.
      await page.getByLabel('Feed').selectOption('live_births');
      await page.getByLabel('Supplied by').selectOption({ label: "St Mary's Maternity Service" });
      await submit(page, button(page, 'Upload and import'), { status: 422, label: 'upload without a file' });
      await assertVisible(page.locator('.govuk-error-summary').getByText('Choose a CSV file to upload'));
      assert.equal(await page.getByLabel('Feed').inputValue(), 'live_births');

      await page.getByLabel('CSV file').setInputFiles({ name: 'live-births-journey.csv', mimeType: 'text/csv', buffer: Buffer.from(BIRTHS) });
      await submit(page, button(page, 'Upload and import'), { label: 'the import' });
      for (let i = 0; i < 50 && !(await page.getByText('Finished').count()); i++) {
        await page.waitForTimeout(200);
        await visit(page, new URL(page.url()).pathname, { axe: false });
      }
      await visit(page, new URL(page.url()).pathname);
      await assertVisible(page.getByRole('heading', { name: 'Monthly live births: live-births-journey.csv' }));
      await assertVisible(page.getByText('2: 1 new, 0 changed, 0 unchanged since an earlier import, 1 rejected'));
      await assertVisible(page.getByRole('cell', { name: 'date_of_birth is not a date' }));
      await assertVisible(page.getByRole('link', { name: 'Download every rejected row (CSV)' }));

      // Match review: the demo's feeds left records whose match is uncertain.
      await submit(page, page.getByRole('link', { name: 'Match review', exact: true }), { status: 200, label: 'match review queue' });
      const record = await firstId(page, '/matches');
      await visit(page, `/matches/${record}`);
      await assertVisible(page.getByRole('heading', { name: 'Candidates' }));
      await assertVisible(page.getByText(/Field by field: match weight/).first());
      await submit(page, page.getByRole('button', { name: /^Same person: link/ }).first(), { status: 200, label: 'linked' });
      await assertVisible(page.getByText('Linked after review').first());
      await submit(page, page.getByRole('button', { name: /^Undo the link/ }), { status: 200, label: 'link undone' });
      await assertVisible(page.getByText('Waiting for review').first());
      await assertVisible(page.getByRole('heading', { name: 'Link history' }));
      await signOut(page);

      // The health visitor: the universal pathway's due and overdue list, by hub.
      await signIn(page, 'hv@westminster.example');
      await submit(page, page.getByRole('link', { name: 'Pathway', exact: true }), { status: 200, label: 'pathway' });
      await assertVisible(page.getByRole('heading', { name: 'Universal pathway: due and overdue' }));
      await page.getByLabel('Hub').selectOption({ label: 'Bayswater Family Hub' });
      await submit(page, button(page, 'Show'), { status: 200, label: 'pathway for one hub' });
      assert.ok((await page.locator('tbody tr').count()) > 0, 'stages due or overdue are listed');
      await signOut(page);

      // The manager: births in each hub's area against families registered.
      await signIn(page, 'manager@westminster.example');
      await submit(page, page.getByRole('link', { name: 'Reach', exact: true }), { status: 200, label: 'reach' });
      await assertVisible(page.getByRole('heading', { name: 'Church Street Family Hub' }));
      await assertVisible(page.getByRole('img', { name: 'Births and registered families by month' }).first());
      await signOut(page);
      await closePage(page);
    });
  });
}
