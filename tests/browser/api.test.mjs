// A developer makes an API token on /me/tokens and tries the API on its
// documentation page (Swagger UI under the strict CSP), in a real browser.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { openPage, signUp, startApp, startBrowser } from "./support.mjs";

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

test("make a token, see it once, and call the API with it from the docs page", async () => {
  const { page, problems, audited } = await openPage(browser);
  const email = `dev${Date.now()}@example.com`;
  await page.goto(`${app.base}/signup`);
  await signUp(page, { email, nickname: "API개발자", password: "브라우저 테스트 비밀번호" }, app);
  await page.waitForURL(`${app.base}/me`);

  await page.getByRole("link", { name: "API 토큰" }).click();
  await page.waitForURL(`${app.base}/me/tokens`);
  await page.getByLabel("이름 (어디에 쓰는지, 40자 이하)").fill("내 스크립트");
  await page.getByLabel("읽기와 쓰기").check();
  await page.getByLabel("유효 기간").selectOption("30");
  await page.getByRole("button", { name: "토큰 만들기" }).click();
  const secret = await page.inputValue("[data-token-secret]");
  assert.match(secret, /^wvs_[A-Za-z0-9_-]{40,}$/);
  assert.match(await page.textContent("[data-token-created]"), /다시 볼 수 없습니다/);

  // Once: after a reload the secret is gone, the token listed.
  await page.goto(`${app.base}/me/tokens`);
  assert.equal(await page.locator("[data-token-secret]").count(), 0);
  assert.match(await page.textContent("[data-token-id]"), /내 스크립트.*읽기와 쓰기/s);

  await page.goto(`${app.base}/api/docs`);
  await page.locator(".swagger-ui .info .title", { hasText: "Weaverse API" }).waitFor();
  await page.getByRole("button", { name: /Authorize/ }).first().click();
  await page.locator(".auth-container input").first().fill(secret);
  await page.locator(".auth-container button.authorize").click();
  await page.locator(".auth-container .auth-btn-wrapper button.btn-done").click();

  const me = page.locator("#operations-me-me");
  await me.locator(".opblock-summary").click();
  await me.getByRole("button", { name: "Try it out" }).click();
  await me.getByRole("button", { name: "Execute" }).click();
  const status = me.locator(".live-responses-table .response .response-col_status").first();
  await status.waitFor();
  assert.equal((await status.textContent()).trim(), "200");
  assert.match(await me.locator(".live-responses-table .response-col_description .highlight-code").first().textContent(), new RegExp(email));

  await audited();
  assert.deepEqual(problems, []);
});
