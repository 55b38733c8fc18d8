// Every page a visitor, a learner, a tutor and an admin meet, on a desktop
// and on a phone: axe-core finds no serious or critical problem, nothing
// scrolls sideways, no console error or CSP violation; a screenshot of each
// goes to artifacts/screenshots.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { VIEWPORTS, axe, login, openPage, screenshot, signUp, startApp, startBrowser } from "./support.mjs";

const admin = { email: "tour-admin@weaverse.kr", password: "둘러보기 관리자 비밀번호" };
let app;
let browser;

before(async () => {
  app = await startApp({ seed: true, admin, seedVideos: 1 });
  browser = await startBrowser();
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

/** Visits each path, checks it and takes its picture. */
async function tour(page, problems, who, viewport, paths) {
  const found = [];
  for (const [name, path] of paths) {
    const response = await page.goto(`${app.base}${path}`);
    assert.ok(response.status() < 500, `${path}: ${response.status()}`);
    await page.waitForLoadState("networkidle");
    for (const v of await axe(page)) found.push(`${who} ${viewport} ${path}: ${v}`);
    if (viewport === "phone") {
      // Fingers: every control and stand-alone link at least 44 px tall
      // (links inside sentences and check boxes with their labels aside).
      const small = await page.evaluate(() =>
        [...document.querySelectorAll("a[href], button, input, select, textarea, summary")]
          .filter((e) => {
            const r = e.getBoundingClientRect();
            const style = getComputedStyle(e);
            return r.height > 0 && r.height < 44 && style.display !== "inline" && style.visibility !== "hidden"
              && !e.matches(".skip-link, input[type=checkbox], input[type=radio], input[type=hidden]");
          })
          .map((e) => `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""} "${(e.textContent || e.value || "").trim().slice(0, 20)}" ${Math.round(e.getBoundingClientRect().height)}px`),
      );
      for (const s of small.slice(0, 5)) found.push(`${who} ${viewport} ${path}: small target ${s}`);
    }
    const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (wide > 0) found.push(`${who} ${viewport} ${path}: ${wide}px sideways scroll`);
    await screenshot(page, `${viewport}/${who}-${name}`);
  }
  // The 404 page is visited on purpose.
  const expected = (p) => p.includes("/no-such-page") || (p.includes("status of 404") && paths.some(([, x]) => x === "/no-such-page"));
  found.push(...problems.splice(0).filter((p) => !expected(p)).map((p) => `${who} ${viewport}: ${p}`));
  return found;
}

for (const [viewport, options] of Object.entries(VIEWPORTS)) {
  test(`every page passes axe on a ${viewport}`, async () => {
    const found = [];
    // A visitor.
    {
      const { page, problems, context } = await openPage(browser, options);
      await page.goto(`${app.base}/courses`);
      const course = await page.getAttribute("[data-course-id]", "data-course-id");
      await page.goto(`${app.base}/courses/${course}`);
      const preview = await page.getAttribute("a[href^='/learn/topics/']", "href");
      // The buy card comes before the curriculum on a phone, beside it on a desktop.
      const [buy, body] = await page.evaluate(() =>
        [".buy-box", ".course-body"].map((s) => document.querySelector(s).getBoundingClientRect()),
      );
      if (viewport === "phone") assert.ok(buy.bottom <= body.top, `buy card at ${buy.top}, curriculum at ${body.top}`);
      else assert.ok(buy.left >= body.right && buy.top < body.bottom, "buy card beside the curriculum");
      found.push(
        ...(await tour(page, problems, "visitor", viewport, [
          ["home", "/"],
          ["courses", "/courses"],
          ["search-empty", "/courses?q=zzzz"],
          ["course", `/courses/${course}`],
          ["lesson-preview", preview],
          ["login", "/login"],
          ["signup", "/signup"],
          ["password-reset", "/password-reset"],
          ["badge-verify", "/certificates/verify"],
          ["api-docs", "/api/docs"],
          ["not-found", "/no-such-page"],
        ])),
      );
      await context.close();
    }
    // A learner, before and after buying.
    {
      const { page, problems, context } = await openPage(browser, options);
      const email = `tour-${viewport}-${Date.now()}@example.com`;
      await page.goto(`${app.base}/signup`);
      await signUp(page, { email, nickname: "둘러보기", password: "둘러보기 학습자 비밀번호" }, app);
      await page.waitForURL(`${app.base}/me`);
      await page.goto(`${app.base}/`);
      // A "buy" link only asks (nothing goes in the cart on a GET).
      const curriculum = await page.getAttribute('input[name="curriculum_id"]', "value");
      found.push(...(await tour(page, problems, "learner", viewport, [["cart-want", `/cart/want?curriculum_id=${curriculum}`]])));
      await page.goto(`${app.base}/`);
      await page.getByRole("button", { name: /50,000원에 2년 수강 시작하기/ }).click();
      await page.waitForURL(`${app.base}/cart`);
      found.push(...(await tour(page, problems, "learner", viewport, [["cart", "/cart"], ["checkout", "/checkout"]])));
      await page.getByLabel(/환불 규정과 청약 철회 안내를 확인했고 동의합니다/).check();
      await page.getByRole("button", { name: /50,000원 결제하기/ }).click();
      await page.waitForURL(/\/payments\/demo\//);
      found.push(...(await tour(page, problems, "learner", viewport, [["demo-gateway", new URL(page.url()).pathname]])));
      await page.getByRole("button", { name: "결제 승인" }).click();
      await page.waitForURL(/\/orders\//);
      const order = new URL(page.url()).pathname;
      const receipt = await page.getAttribute("a[href$='/receipt']", "href");
      const refund = await page.getAttribute("a[href$='/refund']", "href");
      await page.goto(`${app.base}/courses`);
      const course = await page.getAttribute("[data-course-id]", "data-course-id");
      await page.goto(`${app.base}/courses/${course}`);
      const lesson = await page.locator("a[href^='/learn/topics/']").nth(3).getAttribute("href");
      const quiz = await page.getByRole("link", { name: "웹 동작 원리 확인 퀴즈" }).first().getAttribute("href");
      await page.goto(`${app.base}${quiz}`);
      const mission = await page.getAttribute("[data-mission-link]", "href");
      found.push(
        ...(await tour(page, problems, "learner", viewport, [
          ["orders", "/orders"],
          ["order", order],
          ["receipt", receipt],
          ["refund-confirm", refund],
          ["dashboard", "/me/dashboard"],
          ["addresses", "/me/addresses"],
          ["legal-name", "/me/legal-name"],
          ["me", "/me"],
          ["tokens", "/me/tokens"],
          ["course-bought", `/courses/${course}`],
          ["lesson", lesson],
          ["mission-topic", quiz],
          ["mission", mission],
        ])),
      );
      await context.close();
    }
    // An admin (studio and dashboards).
    {
      const { page, problems, context } = await openPage(browser, options);
      await login(page, app.base, admin.email, admin.password);
      assert.equal(new URL(page.url()).pathname, "/admin", "an admin lands on the admin home");
      await page.goto(`${app.base}/studio`);
      const studioCourse = await page.getAttribute("a[href^='/studio/courses/']:not([href$='/new'])", "href");
      await page.goto(`${app.base}${studioCourse}`);
      const studioTopic = await page.getAttribute("#outline a[href^='/studio/topics/']", "href");
      await page.goto(`${app.base}/courses`);
      const firstCourse = await page.getAttribute("[data-course-id]", "data-course-id");
      await page.goto(`${app.base}/courses/${firstCourse}`);
      const quizLesson = await page.getByRole("link", { name: "웹 동작 원리 확인 퀴즈" }).first().getAttribute("href");
      const studioQuiz = quizLesson.replace("/learn/topics/", "/studio/topics/");
      await page.goto(`${app.base}/admin/payments`);
      const payment = await page.getAttribute("a[href^='/admin/payments/']", "href");
      await page.goto(`${app.base}/admin/users?q=tour-`);
      const learnerPage = await page.getAttribute("a[href^='/admin/users/']", "href");
      found.push(
        ...(await tour(page, problems, "admin", viewport, [
          ["studio", "/studio"],
          ["studio-course", studioCourse],
          ["studio-topic", studioTopic],
          ["studio-new-course", "/studio/courses/new"],
          ["admin-home", "/admin"],
          ["admin-reviews", "/admin/reviews"],
          ["admin-users", "/admin/users"],
          ["admin-user", learnerPage],
          ["admin-payments", "/admin/payments"],
          ["admin-payment", payment],
          ["admin-jobs", "/admin/jobs"],
          ["admin-watch", "/admin/watch"],
          ["admin-certificates", "/admin/certificates"],
          ["admin-home-month", "/admin?range=30d"],
          ["studio-insights", "/studio/insights"],
          ["studio-course-insights", studioCourse.replace("/studio/courses/", "/studio/insights/")],
          ["studio-course-learners", `${studioCourse.replace("/studio/courses/", "/studio/insights/")}/learners?stage=enrolled`],
          ["studio-mission", `${studioQuiz}/mission`],
          ["me", "/me"],
        ])),
      );
      await context.close();
    }
    assert.deepEqual(found, []);
  });
}
