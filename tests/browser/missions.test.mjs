// Missions in the browser: a multiple-choice mission answered and scored,
// then a code task submitted wrong and right, its verdict arriving live
// (htmx polling) from the grading job's sandbox run.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { VIEWPORTS, login, openPage, startApp, startBrowser } from "./support.mjs";

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

/** Opens the mission of the topic titled `title` (in `course`) from its lesson page. */
async function openMission(page, title, course = "JavaScript 기초") {
  await page.goto(`${app.base}/courses`);
  await page.getByRole("link", { name: course }).first().click();
  await page.getByRole("link", { name: title }).first().click();
  await page.waitForURL(/\/learn\/topics\//);
  await page.getByRole("link", { name: "미션 풀기" }).click();
  await page.waitForURL(/\/missions\//);
}

// Each screen takes its own quiz (attempts wait for a cooldown), given with
// its right answers (the choices are shuffled per attempt).
const QUIZZES = {
  desktop: ["값과 타입 퀴즈", "JavaScript 기초", ['"object"', "const", '"12"', "false, 타입이 달라서", "0", '"" (빈 문자열)', "null"]],
  phone: ["웹 동작 원리 확인 퀴즈", "웹의 이해와 HTML", ["DNS", "요청한 자원을 찾을 수 없다", "요청", "CSS 선택자", "브라우저", "주고받는 내용을 암호화한다"]],
};

for (const [viewport, options] of Object.entries(VIEWPORTS)) {
test(`a choice mission is reviewed once passed, and code gets wrong_answer then accepted (${viewport})`, async () => {
  const { page, problems, context, audited } = await openPage(browser, options);
  const [quiz, course, right] = QUIZZES[viewport];
  await login(page, app.base, admin.email, admin.password);

  await openMission(page, quiz, course);
  // Opening the page starts nothing; the learner starts the attempt.
  assert.equal(await page.locator("fieldset.question").count(), 0);
  await page.getByRole("button", { name: "응시 시작" }).click();
  await page.waitForURL(/\/missions\/.*#answers$/);
  const questions = page.locator("fieldset.question");
  const asked = await questions.count();
  assert.ok(asked >= 5);
  for (const q of await questions.all()) {
    for (const answer of right) {
      const choice = q.getByLabel(answer, { exact: true });
      if (await choice.count()) await choice.check();
    }
  }
  await page.getByRole("button", { name: "답안 제출" }).click();
  await page.waitForURL(/\/missions\/.*#result$/);
  assert.equal(await page.getAttribute("[data-attempt-score]", "data-attempt-score"), "100");
  assert.match(await page.textContent("#page-alerts"), /점입니다/);
  // The result is in view, below the sticky navbar, not under it.
  const nav = await page.locator("nav.navbar").boundingBox();
  const result = await page.locator("#result").boundingBox();
  assert.ok(result.y >= nav.y + nav.height - 1, `result at ${result.y}, navbar to ${nav.y + nav.height}`);
  assert.ok(result.y < page.viewportSize().height, "the result is on screen");
  // Passed: each question with the learner's answer, the right one and the
  // tutor's explanation.
  assert.equal(await page.getAttribute("[data-best-score]", "data-passed"), "true");
  assert.equal(await page.locator("[data-review] [data-earned]").count(), asked);
  assert.ok((await page.locator("[data-review] [data-right=true][data-picked=true]").count()) >= asked);
  assert.match(await page.locator("[data-review] [data-explanation]").first().innerText(), /해설/);

  if (viewport === "phone") {
    // The code editor's journey on a phone is the test below.
    await audited();
    assert.deepEqual(problems, []);
    await context.close();
    return;
  }
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
}

for (const [viewport, options] of Object.entries(VIEWPORTS)) {
  test(`the code editor indents, keeps a draft and runs the visible tests (${viewport})`, async () => {
    const { page, problems, context, audited } = await openPage(browser, options);
    await login(page, app.base, admin.email, admin.password);
    await openMission(page, "배열 합계 함수 작성하기");
    const editor = page.getByLabel("코드");
    // 16px on a phone (no zoom on focus), no autocorrect.
    const size = await editor.evaluate((e) => getComputedStyle(e).fontSize);
    if (viewport === "phone") assert.equal(size, "16px");
    assert.equal(await editor.getAttribute("autocorrect"), "off");

    // Tab indents; Esc then Tab leaves the editor.
    await editor.fill("");
    await editor.click();
    await page.keyboard.type(`function sum(numbers) { // ${viewport}`);
    await page.keyboard.press("Enter");
    await page.keyboard.press("Tab");
    await page.keyboard.type("return numbers.lenght.foo;");
    await page.keyboard.press("Enter");
    await page.keyboard.type("}");
    const typed = await editor.inputValue();
    assert.match(typed, /\n {2}return numbers/);
    await page.keyboard.press("Escape");
    await page.keyboard.press("Tab");
    assert.notEqual(await page.evaluate(() => document.activeElement?.id), await editor.getAttribute("id"));

    // Kept as a draft: a reload brings it back.
    await page.locator("[data-draft-state]").filter({ hasText: "임시 저장됨" }).waitFor();
    await page.reload();
    assert.equal(await page.getByLabel("코드").inputValue(), typed);

    // 실행해 보기: the visible tests only, with the error and its line.
    await page.getByRole("button", { name: "실행해 보기" }).click();
    await page.locator("[data-trial]").waitFor({ timeout: 60_000 });
    assert.equal(await page.getAttribute("[data-error-line]", "data-error-line"), "2");
    assert.match(await page.textContent("[data-test-error]"), /TypeError/);
    assert.equal(await page.locator("[data-hidden-passed]").count(), 0);
    await audited();
    assert.deepEqual(problems, []);
    await context.close();
  });
}
