// A learner signs up, logs out, logs in again and edits the profile, in a
// real browser.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { openPage, signUp, startApp, startBrowser } from "./support.mjs";

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

test("sign up, finish with the mailed link, log out, log in, edit the profile", async () => {
  const { page, problems, context, audited } = await openPage(browser);
  const email = `learner${Date.now()}@example.com`;
  const password = "브라우저 테스트 비밀번호";

  await page.goto(`${app.base}/`);
  await page.getByRole("link", { name: "회원가입" }).click();
  await signUp(page, { email, nickname: "브라우저학습자", password });
  assert.equal(await page.locator("[data-user-nickname]").count(), 0);

  // The mailed link verifies the address and signs the learner in.
  await page.goto(await app.mailLink(email, "/verify-email/"));
  await page.waitForURL(`${app.base}/me`);
  assert.match(await page.textContent("#page-alerts"), /이메일 주소가 인증되었습니다/);
  assert.equal(await page.getAttribute("[data-user-nickname]", "data-user-nickname"), "브라우저학습자");

  await page.getByRole("navigation", { name: "주 메뉴" }).getByRole("button", { name: "로그아웃" }).click();
  await page.waitForURL(`${app.base}/`);
  assert.equal(await page.locator("[data-user-nickname]").count(), 0);

  await page.getByRole("link", { name: "로그인" }).click();
  await page.getByLabel("이메일").fill(email);
  await page.getByLabel("비밀번호").fill("wrong password!");
  await page.getByRole("button", { name: "로그인" }).click();
  assert.match(await page.textContent('[data-error-for="_form"]'), /이메일 또는 비밀번호가 올바르지 않습니다/);
  await page.getByLabel("비밀번호").fill(password);
  await page.getByRole("button", { name: "로그인" }).click();
  await page.waitForURL(`${app.base}/`);

  await page.goto(`${app.base}/me`);
  await page.getByLabel("닉네임").fill("새닉네임");
  await page.getByLabel("자기소개 (500자 이하)").fill("백엔드 개발자가 목표입니다.");
  await page.getByLabel(/휴대폰 번호/).fill("01012345678");
  await page.getByRole("button", { name: "저장", exact: true }).click();
  await page.waitForURL(`${app.base}/me`);
  assert.match(await page.textContent("#page-alerts"), /프로필을 저장했습니다/);
  assert.equal(await page.inputValue("#f-phone_number"), "010-1234-5678");
  assert.equal(await page.getAttribute("[data-user-nickname]", "data-user-nickname"), "새닉네임");

  // The failed login above answered 401 on purpose; nothing else went wrong.
  await audited();
  assert.deepEqual(problems.filter((p) => !p.includes("401") && !p.includes("favicon")), []);
  await context.close();
});
