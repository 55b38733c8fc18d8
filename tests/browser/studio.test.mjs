// An admin reorders lectures in the studio: htmx posts with the CSRF header
// from <meta name="csrf-token"> and swaps the outline in place.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VIEWPORTS, login, openPage, startApp, startBrowser } from "./support.mjs";

const admin = { email: "studio-admin@weaverse.kr", password: "스튜디오 관리자 비밀번호" };
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

test("reorder lectures with htmx and rename one inline", async () => {
  const { page, problems, context, audited } = await openPage(browser);
  await login(page, app.base, admin.email, admin.password);

  await page.getByRole("link", { name: "스튜디오" }).click();
  await page.getByRole("link", { name: "Git과 협업" }).click();
  await page.waitForURL(/\/studio\/courses\//);
  const titles = () => page.locator("#outline input[id^=lecture-title-]").evaluateAll((els) => els.map((e) => e.value));
  assert.deepEqual(await titles(), ["버전 관리 시작하기", "브랜치", "GitHub로 협업하기"]);
  const url = page.url();

  // htmx: the page does not navigate, the outline is swapped.
  await page.getByRole("button", { name: "버전 관리 시작하기 아래로" }).click();
  await page.waitForFunction(
    () => document.querySelector("#outline input[id^=lecture-title-]").value === "브랜치",
  );
  assert.equal(page.url(), url);
  assert.deepEqual(await titles(), ["브랜치", "버전 관리 시작하기", "GitHub로 협업하기"]);
  // Focus stays on the control that moved the lecture; the live region says so.
  await page.locator("#page-alerts [role=status]").waitFor();
  assert.equal(
    await page.evaluate(() => document.activeElement.getAttribute("aria-label")),
    "버전 관리 시작하기 아래로",
  );
  assert.equal(await page.locator("#page-alerts .alert").count(), 1, "stale banners cleared");

  const first = page.locator("#outline [data-lecture-id]").first();
  await first.locator("input[id^=lecture-title-]").fill("브랜치와 병합");
  await first.getByRole("button", { name: "저장" }).first().click();
  await page.waitForFunction(
    () => document.querySelector("#outline input[id^=lecture-title-]").value === "브랜치와 병합",
  );
  assert.notEqual(await page.evaluate(() => document.activeElement.tagName), "BODY");

  // The learner-facing course page follows.
  await page.getByRole("link", { name: "코스 페이지 보기" }).click();
  const lectures = await page.locator(".lecture h3").allTextContents();
  assert.deepEqual(lectures.map((t) => t.trim()), ["1. 브랜치와 병합", "2. 버전 관리 시작하기", "3. GitHub로 협업하기"]);
  await audited();
  assert.deepEqual(problems.filter((p) => !p.includes("favicon")), []);
  await context.close();
});

for (const [index, [viewport, options]] of Object.entries(VIEWPORTS).entries()) {
test(`upload a lesson video with a progress bar, see it become playable and preview it (${viewport})`, async () => {
  const clip = join(mkdtempSync(join(tmpdir(), "weaverse-clip-")), "lesson.mp4");
  execFileSync("ffmpeg", [
    "-hide_banner", "-loglevel", "error", "-y",
    "-f", "lavfi", "-i", "testsrc2=s=1280x720:r=30:d=4",
    "-f", "lavfi", "-i", "sine=frequency=440:duration=4",
    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", clip,
  ]);
  const { page, problems, context, audited } = await openPage(browser, options);
  await login(page, app.base, admin.email, admin.password);
  await page.goto(`${app.base}/studio`);
  await page.getByRole("link", { name: "Git과 협업" }).click();
  // Each run takes its own topic.
  await page.locator("#outline a[href^='/studio/topics/']").nth(index).click();
  await page.waitForURL(/\/studio\/topics\//);

  // The upload goes by XHR: the status line counts up, then the page follows.
  const seen = [];
  await page.exposeFunction("sawUploadStatus", (text) => seen.push(text));
  await page.evaluate(() => {
    const status = document.querySelector("[data-upload-status]");
    new MutationObserver(() => window.sawUploadStatus(status.textContent)).observe(status, { childList: true, characterData: true, subtree: true });
  });
  await page.setInputFiles("#f-video", clip);
  await page.getByRole("button", { name: "올리기", exact: true }).click();
  await page.getByText("영상을 올렸습니다").waitFor();
  assert.ok(seen.some((t) => t.startsWith("업로드 중")), JSON.stringify(seen));

  // htmx polls the panel until the worker in `serve` has transcoded it.
  await page.locator(".video-state[data-state=ready]").waitFor({ timeout: 90_000 });
  assert.match(await page.locator("#video-panel").innerText(), /360p, 720p/);
  // The studio previews what learners get: the HLS plays here too.
  await page.waitForFunction(() => {
    const v = document.querySelector("video[data-preview-src]");
    return v && v.readyState >= 1 && v.duration > 3;
  }, null, { timeout: 30_000 });
  await audited();
  assert.deepEqual(problems.filter((p) => !p.includes("favicon")), []);
  await context.close();
});
}
