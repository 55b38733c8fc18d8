// A visitor filters the catalogue (htmx swaps the list and the address
// follows) and opens a course.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { VIEWPORTS, openPage, startApp, startBrowser } from "./support.mjs";

let app;
let browser;

before(async () => {
  app = await startApp({ seed: true });
  browser = await startBrowser();
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

test("filter the catalogue and open a course", async () => {
  const { page, problems, context, audited } = await openPage(browser);
  await page.goto(`${app.base}/`);
  assert.equal(await page.locator("[data-roadmap-step]").count(), 7);
  await page.getByRole("link", { name: "강의 목록" }).first().click();
  await page.waitForURL(`${app.base}/courses`);
  assert.equal(await page.locator("[data-course-title]").count(), 7);

  await page.getByLabel("분류").selectOption("frontend");
  await page.waitForURL(/category=frontend/);
  await page.waitForFunction(() => document.querySelectorAll("[data-course-title]").length === 3);
  await page.getByLabel("난이도").selectOption("intermediate");
  await page.waitForURL(/skill_level=intermediate/);
  await page.waitForFunction(() => document.querySelectorAll("[data-course-title]").length === 1);
  assert.equal(await page.getAttribute("[data-course-title]", "data-course-title"), "JavaScript 심화와 DOM");

  // Typing a search that matches nothing shows the empty state.
  await page.getByLabel("검색").fill("없는검색어");
  await page.locator(".empty-result").waitFor();
  await page.getByRole("link", { name: "필터 지우기" }).click();
  await page.waitForFunction(() => document.querySelectorAll("[data-course-title]").length === 7);

  await page.getByRole("link", { name: "Git과 협업" }).click();
  await page.waitForURL(/\/courses\/[0-9a-f-]{36}$/);
  assert.equal((await page.textContent("h1")).trim(), "Git과 협업");
  assert.equal(await page.locator("[data-preview]").count(), 3);
  await audited();
  assert.deepEqual(problems, []);
  await context.close();
});

for (const [viewport, options] of Object.entries(VIEWPORTS)) {
  test(`search finds Korean and English names and the course says who teaches (${viewport})`, async () => {
    const { page, problems, context, audited } = await openPage(browser, options);
    await page.goto(`${app.base}/courses`);
    const titles = () => page.locator("[data-course-title]").evaluateAll((els) => els.map((e) => e.dataset.courseTitle));
    const search = async (words, expected) => {
      await page.getByLabel("검색").fill(words);
      await page.waitForFunction(
        (n) => document.querySelectorAll("[data-course-title]").length === n && !document.querySelector(".htmx-request"),
        expected.length,
      );
      assert.deepEqual(await titles(), expected, words);
    };
    await search("자바스크립트", ["JavaScript 기초", "JavaScript 심화와 DOM"]);
    await search("ㅈㅂㅅㅋㄹㅌ", ["JavaScript 기초", "JavaScript 심화와 DOM"]);
    await search("깃", ["Git과 협업"]);
    await page.getByRole("link", { name: "Git과 협업" }).click();
    await page.waitForURL(/\/courses\/[0-9a-f-]{36}$/);
    assert.equal(await page.textContent("[data-tutor-name]"), "Weaverse 교육팀");
    await audited();
    assert.deepEqual(problems, []);
    await context.close();
  });
}
