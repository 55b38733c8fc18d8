// A visitor opens a free preview lesson: the demo clip is made and
// transcoded in the background, the page shows its progress and then plays
// it through hls.js with Korean captions; a paid lesson asks for a login.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { openPage, startApp, startBrowser } from "./support.mjs";

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

test("a preview lesson plays HLS with captions", async () => {
  const { page, problems, context, audited } = await openPage(browser);
  await page.goto(`${app.base}/`);
  await page.locator("[data-roadmap-step] a").first().click();
  await page.getByRole("link", { name: "브라우저와 서버의 대화" }).click();
  await page.waitForURL(/\/learn\/topics\//);
  assert.equal(await page.locator("h1").innerText(), "브라우저와 서버의 대화");

  // htmx polls the video box until the clip is ready, then the player starts.
  const video = page.locator("#player");
  await video.waitFor({ timeout: 120_000 });
  const played = await page.evaluate(async () => {
    const v = document.getElementById("player");
    v.muted = true;
    await v.play();
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`stuck at ${v.currentTime}`)), 20_000);
      const check = () => (v.currentTime > 1.5 ? (clearTimeout(t), resolve()) : setTimeout(check, 100));
      check();
    });
    const track = v.textTracks[0];
    track.mode = "showing";
    for (let i = 0; i < 50 && !(track.cues && track.cues.length); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    return { time: v.currentTime, width: v.videoWidth, cues: track.cues ? track.cues.length : 0, label: track.label };
  });
  assert.ok(played.time > 1.5, JSON.stringify(played));
  assert.ok(played.width >= 640, JSON.stringify(played));
  assert.equal(played.label, "한국어");
  assert.ok(played.cues >= 4, JSON.stringify(played));
  await audited();
  assert.deepEqual(problems, []);
  await context.close();
});

test("a paid lesson sends a visitor to the login page", async () => {
  const { page, context } = await openPage(browser);
  await page.goto(`${app.base}/courses`);
  await page.locator("[data-course-title]").first().click();
  const locked = page.locator("a[href^='/learn/topics/']").nth(3);
  await locked.click();
  await page.waitForURL(/\/login/);
  await context.close();
});
