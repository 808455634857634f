// Kindred in a real browser: Debian's Chromium through playwright-core, with
// axe-core run on every page visited. One server (the real binary over a fresh
// demo database) and one browser serve every journey, in order.
import { describe, before, after } from 'node:test';
import { startKindred } from '../lib/server.mjs';
import { launch } from '../lib/browser.mjs';
import { checked } from '../lib/axe.mjs';
import staff from '../journeys/staff.mjs';
import selfReferral from '../journeys/self_referral.mjs';
import professionalReferral from '../journeys/professional_referral.mjs';
import contacts from '../journeys/contacts.mjs';
import planAndPortal from '../journeys/plan_portal.mjs';
import development from '../journeys/development.mjs';
import episodes from '../journeys/episodes.mjs';
import transitions from '../journeys/transitions.mjs';
import breakGlass from '../journeys/break_glass.mjs';
import restricted from '../journeys/restricted.mjs';
import consent from '../journeys/consent.mjs';
import transparency from '../journeys/transparency.mjs';
import feeds from '../journeys/feeds.mjs';
import dashboards from '../journeys/dashboards.mjs';
import earlyIdentification from '../journeys/early_identification.mjs';
import reports from '../journeys/reports.mjs';
import directory from '../journeys/directory.mjs';
import mfa from '../journeys/mfa.mjs';
import retention from '../journeys/retention.mjs';

describe('Kindred in Chromium, with axe on every page', () => {
  const ctx = {};
  before(async () => {
    ctx.server = await startKindred({ families: 300 });
    ctx.browser = await launch();
  });
  after(async () => {
    console.log(`axe-core checked ${checked.pages} pages`);
    await ctx.browser?.close();
    await ctx.server?.stop();
  });
  staff(ctx);
  selfReferral(ctx);
  professionalReferral(ctx);
  contacts(ctx);
  planAndPortal(ctx);
  development(ctx);
  episodes(ctx);
  transitions(ctx);
  breakGlass(ctx);
  restricted(ctx);
  consent(ctx);
  transparency(ctx);
  feeds(ctx);
  dashboards(ctx);
  earlyIdentification(ctx);
  reports(ctx);
  directory(ctx);
  retention(ctx);
  mfa(ctx);
});
