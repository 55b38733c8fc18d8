// Missions in the browser: a multiple-choice mission answered and scored,
// then a code task submitted wrong and right, its verdict arriving live
// (htmx polling) from the grading job's sandbox run.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { login, openPage, startApp, startBrowser } from "./support.mjs";

const admin = { email: "mission-admin@weaverse.kr", password: "미션 관리자 비밀번호 1234" };
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

/** Opens the mission of the topic titled `title` from its lesson page. */
async function openMission(page, title) {
  await page.goto(`${app.base}/courses`);
  await page.getByRole("link", { name: "JavaScript 기초" }).first().click();
  await page.getByRole("link", { name: title }).first().click();
  await page.waitForURL(/\/learn\/topics\//);
  await page.getByRole("link", { name: "미션 풀기" }).click();
  await page.waitForURL(/\/missions\//);
}

test("a choice mission is scored and code gets wrong_answer then accepted", async () => {
  const { page, problems, context, audited } = await openPage(browser);
  await login(page, app.base, admin.email, admin.password);

  await openMission(page, "값과 타입 퀴즈");
  // Opening the page starts nothing; the learner starts the attempt.
  assert.equal(await page.locator("fieldset.question").count(), 0);
  await page.getByRole("button", { name: "응시 시작" }).click();
  await page.waitForURL(/\/missions\/.*#answers$/);
  const questions = page.locator("fieldset.question");
  const asked = await questions.count();
  assert.ok(asked >= 5);
  // typeof null is "object": pick it; the rest get their first choice.
  for (const q of await questions.all()) {
    const object = q.getByLabel('"object"', { exact: true });
    if (await object.count()) await object.check();
    else await q.locator("input").first().check();
  }
  await page.getByRole("button", { name: "답안 제출" }).click();
  await page.waitForURL(/\/missions\/.*#result$/);
  const score = Number(await page.getAttribute("[data-attempt-score]", "data-attempt-score"));
  assert.ok(score >= 20 && score <= 100, `score ${score}`);
  // Right/wrong per question only once passed (or out of attempts); until
  // then the next attempt waits for its cooldown.
  if ((await page.getAttribute("[data-best-score]", "data-passed")) === "true") {
    assert.equal(await page.locator("[data-earned]").count(), asked);
  } else {
    assert.equal(await page.locator("[data-earned]").count(), 0);
    assert.equal(await page.locator("[data-next-attempt]").count(), 1);
  }
  assert.match(await page.textContent("#page-alerts"), /점입니다/);

  await openMission(page, "배열 합계 함수 작성하기");
  const editor = page.getByLabel("코드");
  await editor.fill("function sum(numbers) {\n  return numbers.length;\n}\n");
  await page.getByRole("button", { name: "제출하고 채점받기" }).click();
  await page.locator('[data-verdict="wrong_answer"]').waitFor({ timeout: 60_000 });
  assert.match(await page.textContent("[data-verdict]"), /틀린 답/);
  // The visible test shows what it printed; hidden ones only a count.
  assert.match(await page.textContent("[data-hidden-passed]"), /숨겨진 테스트 2개 중/);

  await editor.fill("function sum(numbers) {\n  return numbers.reduce((a, b) => a + b, 0);\n}\n");
  await page.getByRole("button", { name: "제출하고 채점받기" }).click();
  await page.locator('[data-verdict="accepted"]').waitFor({ timeout: 60_000 });
  assert.equal(await page.getAttribute("[data-verdict]", "data-score"), "100");
  await page.reload();
  assert.equal(await page.getAttribute("[data-best-score]", "data-passed"), "true");
  await audited();
  assert.deepEqual(problems, []);
  await context.close();
});
