// A learner watches a demo lesson in the custom player: plays a few seconds,
// skips ahead, pauses, reloads and finds the player resuming where they
// left off; then watches the rest at 1.5x and sees the topic complete, the
// speed remembered, and the outline ticked.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { VIEWPORTS, openPage, signUp, startApp, startBrowser } from "./support.mjs";

let app;
let browser;

before(async () => {
  app = await startApp({ seed: true, seedVideos: 1 });
  browser = await startBrowser();
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

/** Waits until the video's clock passes `secs`. */
async function playUntil(page, secs) {
  await page.waitForFunction((s) => document.getElementById("player").currentTime > s, secs, { timeout: 30_000 });
}

/** The next watch-event batch the page sends, and the server's reply. */
function nextBatch(page) {
  return page.waitForResponse((r) => r.url().includes("/events") && r.request().method() === "POST", { timeout: 30_000 });
}

for (const [viewport, options] of Object.entries(VIEWPORTS)) {
test(`watching is recorded, resumes where it stopped and completes the topic (${viewport})`, async () => {
  const { page, problems, context, audited } = await openPage(browser, options);
  const email = `watcher${Date.now()}@example.com`;
  await page.goto(`${app.base}/signup`);
  await signUp(page, { email, nickname: "시청자", password: "시청 테스트 비밀번호" }, app);
  await page.waitForURL(`${app.base}/me`);

  // The demo's first lesson (a free preview, so no purchase is needed).
  await page.goto(`${app.base}/`);
  await page.locator("[data-roadmap-step] a").first().click();
  await page.getByRole("link", { name: "브라우저와 서버의 대화" }).click();
  await page.waitForURL(/\/learn\/topics\//);
  const lesson = page.url();
  const video = page.locator("#player");
  await video.waitFor({ timeout: 120_000 });
  assert.equal(await video.getAttribute("data-resume-at"), "0");

  // The custom bar replaces the native controls.
  const bar = page.locator("[data-player-bar]");
  await bar.waitFor();
  assert.equal(await video.evaluate((v) => v.controls), false);
  // A quality menu offers the video's renditions once hls.js knows them.
  const quality = page.getByLabel("화질");
  await quality.waitFor();
  assert.deepEqual(
    await quality.locator("option").evaluateAll((os) => os.map((o) => o.value)),
    ["auto", "360p", "720p"],
  );
  await quality.selectOption("360p");
  assert.equal(await page.evaluate(() => document.querySelector("[data-player-status]").textContent), "화질 360p");
  await page.getByRole("button", { name: "단축키 도움말" }).click();
  assert.ok(await page.locator("#player-help").isVisible());
  await page.keyboard.press("Escape");

  // Play a few seconds, jump 5 s ahead with the arrow key, play on, pause.
  await video.evaluate((v) => (v.muted = true));
  await page.getByRole("button", { name: "재생", exact: true }).click();
  await playUntil(page, 3);
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await page.keyboard.press("ArrowRight");
  await page.waitForFunction(() => document.getElementById("player").currentTime > 8);
  await playUntil(page, 9.5);
  const paused = nextBatch(page);
  await page.getByRole("button", { name: "일시정지" }).click();
  const reply = await (await paused).json();
  assert.equal(reply.completed, false, JSON.stringify(reply));
  const position = await video.evaluate((v) => v.currentTime);

  // Reload: the player resumes a few seconds before where it stopped.
  await page.reload();
  await video.waitFor();
  const resumeAt = Number(await video.getAttribute("data-resume-at"));
  assert.ok(Math.abs(resumeAt - Math.floor(position - 3)) <= 1, `resume at ${resumeAt}, left at ${position}`);
  await page.waitForFunction(
    (s) => document.getElementById("player").readyState >= 1 && document.getElementById("player").currentTime >= s - 0.5,
    resumeAt,
  );
  const watched = await video.getAttribute("data-watched");
  assert.ok(watched.includes("-"), `watched ranges: ${watched}`);

  // Captions toggle with "c".
  const captions = page.getByRole("button", { name: "자막" });
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await page.keyboard.press("c");
  assert.equal(await captions.getAttribute("aria-pressed"), "false");
  await page.keyboard.press("c");
  assert.equal(await captions.getAttribute("aria-pressed"), "true");

  // Watch the rest from the start at 1.5x: the topic turns complete.
  await page.getByLabel("재생 속도").selectOption("1.5");
  await video.evaluate((v) => {
    v.muted = true;
    v.currentTime = 0;
  });
  await page.waitForTimeout(500);
  const ended = page.waitForResponse(
    async (r) => r.url().includes("/events") && (await r.json().catch(() => ({}))).completed === true,
    { timeout: 60_000 },
  );
  await page.getByRole("button", { name: "재생", exact: true }).click();
  await ended;
  await page.locator("[data-topic-complete]").waitFor({ state: "visible" });
  assert.equal(await page.locator("[data-topic-complete]").isVisible(), true);

  // Another visit: marked done in the outline, from the start, at 1.5x.
  await page.goto(lesson);
  await video.waitFor();
  assert.equal(await video.getAttribute("data-resume-at"), "0");
  assert.equal(await page.getByLabel("재생 속도").inputValue(), "1.5");
  const topic = await page.getAttribute("[data-topic]", "data-topic");
  assert.equal(await page.locator(`[data-outline-topic="${topic}"]`).getAttribute("data-done"), "");

  // A note at the current moment, listed with its time; clicking seeks.
  await video.evaluate((v) => (v.currentTime = 7));
  await page.waitForTimeout(300);
  await page.getByLabel(/지금 재생 위치에 메모/).fill("요청과 응답 정리");
  await page.getByRole("button", { name: "남기기" }).click();
  const note = page.locator("[data-note]");
  await note.waitFor();
  assert.match(await note.innerText(), /0:07/);
  await video.evaluate((v) => (v.currentTime = 15));
  await note.locator("[data-seek-to]").click();
  await page.waitForFunction(() => Math.abs(document.getElementById("player").currentTime - 7) < 1);

  // The topic is done: the dashboard sends them on to the next one.
  const next = new URL(await page.getAttribute("[data-next]", "href"), app.base).href;
  await page.goto(`${app.base}/me/dashboard`);
  assert.equal(new URL(await page.getAttribute("[data-continue]", "href"), app.base).href, next);
  await audited();
  assert.deepEqual(problems, []);
  await context.close();
});
}
