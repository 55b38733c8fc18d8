// A new learner (no saved address) signs up, finishes with the mailed link,
// buys the nano-degree typing the billing address at checkout, pays with the
// demo gateway and sees the roadmap turn from not-purchased to purchased.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { openPage, startApp, startBrowser } from "./support.mjs";

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

test("buy the nano-degree with the demo gateway", async () => {
  const { page, problems, context, audited } = await openPage(browser);
  const email = `buyer${Date.now()}@example.com`;

  await page.goto(`${app.base}/signup`);
  await page.getByLabel("이메일").fill(email);
  await page.getByLabel("닉네임 (2~20자)").fill("구매자");
  await page.getByLabel("비밀번호 (10자 이상)").fill("구매 테스트 비밀번호");
  await page.getByRole("button", { name: "가입하기" }).click();
  await page.getByRole("heading", { name: "메일을 확인해 주세요" }).waitFor();

  // The mailed link verifies the email and signs the learner in.
  await page.goto(await app.mailLink(email, "/verify-email/"));
  await page.waitForURL(`${app.base}/me`);

  await page.goto(`${app.base}/`);
  const steps = page.locator("[data-roadmap-step]");
  assert.equal(await steps.count(), 7);
  for (const status of await steps.evaluateAll((els) => els.map((e) => e.dataset.status))) {
    assert.equal(status, "not-purchased");
  }
  await page.getByRole("button", { name: /50,000원에 2년 수강 시작하기/ }).click();
  await page.waitForURL(`${app.base}/cart`);
  assert.equal(await page.textContent("[data-cart-total]"), "50,000원");
  await page.getByRole("link", { name: "결제하기" }).click();

  // No saved address: checkout asks for one on the same page.
  await page.waitForURL(`${app.base}/checkout`);
  await page.getByRole("button", { name: /50,000원 결제하기/ }).click();
  assert.match(await page.textContent('[data-error-for="main"]'), /주소를 입력해 주세요/);
  await page.getByLabel("우편번호").fill("04524");
  await page.getByLabel("주소", { exact: true }).fill("서울특별시 중구 세종대로 110");
  await page.getByLabel("상세 주소").fill("3층");
  assert.equal(await page.getByLabel("다음 결제를 위해 이 주소 저장").isChecked(), true);
  await page.getByRole("button", { name: /50,000원 결제하기/ }).click();
  await page.waitForURL(/\/payments\/demo\//);
  assert.match(await page.textContent(".demo-gateway"), /테스트 결제/);
  await page.getByRole("button", { name: "결제 승인" }).click();
  await page.waitForURL(/\/orders\//);
  assert.match(await page.textContent("#page-alerts"), /결제가 완료되었습니다/);

  await page.goto(`${app.base}/`);
  for (const status of await steps.evaluateAll((els) => els.map((e) => e.dataset.status))) {
    assert.equal(status, "purchased");
  }
  // Saved for next time.
  await page.goto(`${app.base}/me/addresses`);
  assert.match(await page.textContent(".addresses-page"), /세종대로 110/);
  // The refused first submit answered 422 on purpose.
  await audited();
  assert.deepEqual(problems.filter((p) => !p.includes("favicon") && !p.includes("422")), []);
  await context.close();
});
