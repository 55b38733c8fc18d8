// The page shell in a real browser: the home page renders in Korean, every
// asset loads under the strict CSP, htmx and Bootstrap are alive.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { openPage, startApp, startBrowser } from "./support.mjs";

let app;
let browser;

before(async () => {
  app = await startApp();
  browser = await startBrowser();
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

test("home page renders with its assets and no CSP violation", async () => {
  const { page, problems, context, audited } = await openPage(browser);
  const response = await page.goto(`${app.base}/`);
  assert.equal(response.status(), 200);
  assert.equal(await page.getAttribute("html", "lang"), "ko");
  assert.equal((await page.textContent("h1")).trim(), "웹 개발 나노 디그리");

  // Bootstrap's CSS applied (its .navbar is a flex container) and scripts ran.
  const display = await page.$eval("nav.navbar", (el) => getComputedStyle(el).display);
  assert.equal(display, "flex");
  assert.equal(await page.evaluate(() => typeof window.htmx), "object");
  assert.equal(await page.evaluate(() => typeof window.bootstrap), "object");
  await audited();
  assert.deepEqual(problems, []);
  await context.close();
});

test("on a phone the navigation collapses behind a working toggle", async () => {
  const { page, problems, context, audited } = await openPage(browser, { viewport: { width: 390, height: 844 } });
  await page.goto(`${app.base}/`);
  const toggler = page.locator(".navbar-toggler");
  assert.equal(await toggler.isVisible(), true);
  assert.equal(await page.locator("#main-nav").isVisible(), false);
  await toggler.click();
  await page.locator("#main-nav.show").waitFor();
  assert.equal(await page.locator("#main-nav").isVisible(), true);
  await audited();
  assert.deepEqual(problems, []);
  await context.close();
});

test("an unknown address shows the Korean 404 page", async () => {
  const { page, context } = await openPage(browser);
  const response = await page.goto(`${app.base}/nothing/here`);
  assert.equal(response.status(), 404);
  assert.equal((await page.textContent("h1")).trim(), "페이지를 찾을 수 없습니다");
  await context.close();
});
