// An admin issues a certificate by hand from /admin/certificates, opens its
// public verification page (checked by axe like every page), and downloads
// the PDF.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { VIEWPORTS, login, openPage, startApp, startBrowser } from "./support.mjs";

const admin = { email: "cert-admin@weaverse.kr", password: "수료증 관리자 비밀번호 1234" };
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

// The desktop run meets the legal-name question; the phone run (another
// course) finds the name already given.
for (const [index, [viewport, options]] of Object.entries(VIEWPORTS).entries()) {
test(`a certificate is issued, verified publicly and downloaded (${viewport})`, async () => {
  const { page, problems, context, audited } = await openPage(browser, options);
  await login(page, app.base, admin.email, admin.password);
  // An admin lands on the admin home.
  assert.equal(new URL(page.url()).pathname, "/admin");
  assert.ok((await page.getByRole("link", { name: "코스 검토" }).count()) > 0);
  await page.goto(`${app.base}/courses`);
  const course = await page.locator("[data-course-id]").nth(index).getAttribute("data-course-id");

  await page.goto(`${app.base}/admin/certificates`);
  // The learner is found by what the admin types (htmx suggestions), the
  // course picked by its title: no id is typed anywhere.
  const member = page.getByLabel("회원", { exact: true });
  await member.pressSequentially("cert-adm", { delay: 30 });
  await page.waitForSelector(`#learner-options option[value="${admin.email}"]`, { state: "attached" });
  await member.fill(admin.email);
  const picked = await page.getByLabel("과정").selectOption(`course:${course}`);
  assert.deepEqual(picked, [`course:${course}`]);
  const title = await page.locator("#f-product option:checked").textContent();
  assert.ok(title.trim().length > 0 && !title.includes(course), title);
  await page.getByLabel("사유 (500자까지)").fill("시연용 발급");
  await page.getByRole("button", { name: "발급" }).click();
  await page.waitForURL(`${app.base}/admin/certificates`);
  assert.match(await page.textContent("#page-alerts"), /발급했습니다/);

  await page.locator("[data-certificate-row] a").first().click();
  await page.waitForURL(/\/certificates\/WV-/);
  assert.equal(await page.getAttribute("[data-certificate-status]", "data-certificate-status"), "valid");
  // The legal name is asked once, before the first certificate is shown
  // with a name.
  if (index === 0) {
    assert.equal(await page.textContent("[data-certificate-name]"), "수료자 이름 확인 중");
    await page.getByRole("link", { name: "이름 입력하기" }).click();
    await page.waitForURL(/\/me\/legal-name/);
    await page.getByLabel("이름 (실명, 2~40자)").fill("김 관리");
    await page.getByRole("button", { name: "저장하고 계속하기" }).click();
    await page.waitForURL(/\/certificates\/WV-/);
  }
  assert.equal(await page.textContent("[data-certificate-name]"), "김 관리");
  const linkedin = await page.getAttribute("[data-linkedin]", "href");
  assert.match(linkedin, /^https:\/\/www\.linkedin\.com\/profile\/add\?/);
  const pdf = await page.request.get(`${app.base}${await page.getAttribute("[data-pdf]", "href")}`);
  assert.equal(pdf.status(), 200);
  assert.equal(pdf.headers()["content-type"], "application/pdf");
  const body = await pdf.body();
  assert.ok(body.length < 100 * 1024, `${body.length} bytes`);
  await audited();
  assert.deepEqual(problems, []);
  await context.close();
});
}
