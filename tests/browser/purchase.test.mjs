// A visitor buys the nano-degree, on a desktop and on a phone: the home
// page's call to action (on the first screen) leads to sign-up, which asks
// the consents the law requires; the mailed link signs them in and the cart
// asks for the product they chose; checkout needs no address for a digital
// course but asks agreement to the refund policy; the demo gateway pays, and
// "학습 시작하기" opens their first topic. The refund entry is a quiet link.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { VIEWPORTS, openPage, signUp, startApp, startBrowser } from "./support.mjs";

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

for (const [viewport, options] of Object.entries(VIEWPORTS)) {
  test(`a visitor buys the nano-degree with the demo gateway (${viewport})`, async () => {
    const { page, problems, context, audited } = await openPage(browser, options);
    const email = `buyer-${viewport}-${Date.now()}@example.com`;
    const height = options.viewport.height;

    // The call to action is on the first screen and leads to sign-up.
    await page.goto(`${app.base}/`);
    const cta = page.getByRole("link", { name: /50,000원에 2년 수강 시작하기/ });
    const box = await cta.boundingBox();
    assert.ok(box && box.y + box.height <= height, `call to action at ${box?.y} on a ${height}px screen`);
    await cta.click();
    await page.waitForURL(/\/signup/);

    // Sign-up refuses until both consents are ticked, and keeps what was typed.
    await page.getByLabel("이메일").fill(email);
    await page.getByLabel("닉네임 (2~20자)").fill("구매자");
    await page.getByLabel("비밀번호 (10자 이상)").fill("구매 테스트 비밀번호");
    await page.getByRole("button", { name: "가입하기" }).click();
    assert.match(await page.textContent('[data-error-for="agree_terms"]'), /이용약관에 동의/);
    assert.match(await page.textContent('[data-error-for="agree_privacy"]'), /개인정보 수집·이용에 동의/);
    assert.equal(await page.getByLabel("이메일").inputValue(), email);
    await page.getByText("수집 항목, 목적, 보유 기간 보기").click();
    assert.match(await page.textContent(".consents"), /보유 기간/);
    await signUp(page, { email, nickname: "구매자", password: "구매 테스트 비밀번호" }, app);

    // The mailed link signs in; the cart asks for the chosen product.
    await page.waitForURL(`${app.base}/cart`);
    await page.getByRole("button", { name: "장바구니에 담기" }).click();
    await page.waitForURL(`${app.base}/cart`);
    assert.equal(await page.textContent("[data-cart-total]"), "50,000원");
    await page.getByRole("link", { name: "결제하기" }).click();

    // No address is needed; the refund policy must be agreed to.
    await page.waitForURL(`${app.base}/checkout`);
    assert.equal(await page.getByLabel("주소 없이 결제").isChecked(), true);
    assert.equal(await page.getByLabel("우편번호").isVisible(), false);
    assert.match(await page.textContent("[data-refund-policy]"), /7일 안에/);
    await page.getByRole("button", { name: /50,000원 결제하기/ }).click();
    assert.match(await page.textContent('[data-error-for="agree_refund"]'), /환불 규정과 청약 철회 안내에 동의/);
    if (viewport === "desktop") {
      // A learner who wants an address on the receipt types it here.
      await page.getByLabel("새 주소 입력").check();
      await page.getByLabel("우편번호").fill("04524");
      await page.getByLabel("주소", { exact: true }).fill("서울특별시 중구 세종대로 110");
    }
    await page.getByLabel(/환불 규정과 청약 철회 안내를 확인했고 동의합니다/).check();
    await page.getByRole("button", { name: /50,000원 결제하기/ }).click();
    await page.waitForURL(/\/payments\/demo\//);
    assert.match(await page.textContent(".demo-gateway"), /테스트 결제/);
    await page.getByRole("button", { name: "결제 승인" }).click();
    await page.waitForURL(/\/orders\//);
    assert.match(await page.textContent("#page-alerts"), /결제가 완료되었습니다/);
    assert.equal(await page.locator("[data-billing]").count(), viewport === "desktop" ? 1 : 0);

    // Refunding is a quiet link, not a button under the success message.
    const refund = page.getByRole("link", { name: "환불 요청하기" });
    assert.doesNotMatch(await refund.getAttribute("class"), /btn/);

    // "학습 시작하기" opens the first topic of the nano-degree.
    await page.getByRole("link", { name: "학습 시작하기" }).click();
    await page.waitForURL(/\/learn\/topics\//);
    await page.locator("h1").waitFor();
    // The course page now shows the learner's own progress, lecture by
    // lecture, and who teaches.
    await page.goto(`${app.base}/courses`);
    await page.getByRole("link", { name: "웹의 이해와 HTML" }).click();
    await page.waitForURL(/\/courses\/[0-9a-f-]{36}$/);
    assert.ok((await page.locator("[data-lecture-done]").count()) > 0);
    assert.equal(await page.textContent("[data-tutor-name]"), "Weaverse 교육팀");

    await page.goto(`${app.base}/`);
    const steps = page.locator("[data-roadmap-step]");
    assert.equal(await steps.count(), 7);
    for (const status of await steps.evaluateAll((els) => els.map((e) => e.dataset.status))) {
      assert.notEqual(status, "not-purchased");
    }
    // The first screen now continues where the learner was.
    assert.match(await page.getByRole("link", { name: /이어서 학습하기/ }).getAttribute("href"), /\/learn\/topics\//);
    if (viewport === "desktop") {
      await page.goto(`${app.base}/me/addresses`);
      assert.match(await page.textContent(".addresses-page"), /세종대로 110/);
    }
    // The refused sign-up and checkout answered 422 on purpose.
    await audited();
    assert.deepEqual(problems.filter((p) => !p.includes("favicon") && !p.includes("422")), []);
    await context.close();
  });
}
