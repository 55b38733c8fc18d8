// The admin's dashboard as an admin uses it: the "now" figures refresh in
// place every 10 s (htmx, no reload), a date range is chosen, and a
// course's funnel leads to its tutor view with the retention curves. On a
// desktop and a phone, every page checked by axe.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { VIEWPORTS, login, openPage, screenshot, startApp, startBrowser } from "./support.mjs";

const admin = { email: "dash-admin@weaverse.kr", password: "대시보드 관리자 비밀번호" };
let app;
let browser;

before(async () => {
  app = await startApp({ seed: true, admin });
  browser = await startBrowser();
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

for (const [viewport, options] of Object.entries(VIEWPORTS)) {
  test(`the admin's figures refresh in place, a range is chosen and a course's curves open (${viewport})`, async () => {
    const { page, problems, context, audited } = await openPage(browser, options);
    await login(page, app.base, admin.email, admin.password);
    assert.equal(new URL(page.url()).pathname, "/admin");
    // The admin is online (not a learner): the figure is there, a number.
    assert.match(await page.getAttribute("[data-live=online]", "data-value"), /^\d+$/);
    const first = await page.getAttribute("#admin-live", "data-live-at");
    await page.evaluate(() => {
      window.stayed = true;
    });
    await page.waitForFunction(
      (before) => document.querySelector("#admin-live")?.dataset.liveAt !== before,
      first,
      { timeout: 25_000 },
    );
    assert.equal(await page.evaluate(() => window.stayed), true, "refreshed without a reload");
    assert.ok(await page.locator("[data-live=sandbox]").isVisible());

    // Thirty days: thirty bars, the same figures in a table.
    await page.selectOption("#f-range", "30d");
    await page.getByRole("button", { name: "보기" }).click();
    await page.waitForURL(/range=30d/);
    assert.equal(await page.locator("[data-chart=signups] rect[data-bar]").count(), 30);
    assert.equal(await page.locator("[data-chart-table=revenue] tbody tr").count(), 30);
    // The figures lead to their lists.
    await page.locator("[data-figure=signups]").click();
    await page.waitForURL(/\/admin\/users\?/);
    await page.goBack();

    // A course's row leads to its tutor view with a curve card per video.
    await page.locator("[data-funnel] a").first().click();
    await page.waitForURL(/\/studio\/insights\//);
    assert.ok((await page.locator("[data-retention]").count()) > 0);
    await screenshot(page, `dashboard-insights-${viewport}`);
    // Behind a step and behind a mission's rate: the learners.
    await page.locator("[data-enrolled]").first().click();
    await page.waitForURL(/\/learners\?stage=enrolled/);
    await page.goBack();
    await page.locator("[data-mission-rate] [data-learners] a").first().click();
    await page.waitForURL(/\/missions\//);
    assert.ok(await page.locator("[data-total]").isVisible());
    await audited();
    assert.deepEqual(problems, []);
    await context.close();
  });
}
