// A learner plays a lesson whose renditions and segments come from a CDN:
// the app signs CloudFront cookies for the video's folder on the master
// playlist, hls.js sends them to the CDN with credentials, and the CDN (a
// local twin that checks CloudFront's signed-cookie contract and answers CORS
// for the site) serves the segments. On a desktop and on a phone, and again
// after a reload.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createVerify } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { VIEWPORTS, openPage, signUp, startApp, startBrowser } from "./support.mjs";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "cdn");
const KEY_ID = "K2JCJMDEHXQW5F";
const PUBLIC_KEY = readFileSync(join(FIXTURES, "public.pem"));

let cdn;
let app;
let browser;
/** Every request the CDN answered: path and status. */
const served = [];

/** CloudFront's base64: `-` `_` `~` for `+` `=` `/`. */
const unCloudFront = (text) => Buffer.from(text.replace(/-/g, "+").replace(/_/g, "=").replace(/~/g, "/"), "base64");

/** Whether the request carries cookies that CloudFront would accept for `url`. */
function allowed(req, url) {
  const jar = Object.fromEntries(
    (req.headers.cookie || "").split(";").map((p) => p.trim().split("=")).filter((p) => p.length === 2),
  );
  if (jar["CloudFront-Key-Pair-Id"] !== KEY_ID || jar["CloudFront-Hash-Algorithm"] !== "SHA256") return false;
  if (!jar["CloudFront-Policy"] || !jar["CloudFront-Signature"]) return false;
  const policy = unCloudFront(jar["CloudFront-Policy"]);
  const verify = createVerify("RSA-SHA256");
  verify.update(policy);
  if (!verify.verify(PUBLIC_KEY, unCloudFront(jar["CloudFront-Signature"]))) return false;
  const statement = JSON.parse(policy.toString()).Statement[0];
  if (Date.now() / 1000 >= statement.Condition.DateLessThan["AWS:EpochTime"]) return false;
  const pattern = new RegExp(
    `^${statement.Resource.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`,
  );
  return pattern.test(url);
}

function startCdn() {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      const origin = req.headers.origin;
      if (origin === app?.base) {
        res.setHeader("access-control-allow-origin", origin);
        res.setHeader("access-control-allow-credentials", "true");
      }
      const path = new URL(req.url, "http://cdn").pathname;
      const url = `${cdn.base}${req.url}`;
      if (!allowed(req, url)) {
        served.push({ path, status: 403 });
        res.writeHead(403, { "content-type": "text/xml" });
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access denied</Message></Error>');
        return;
      }
      let body;
      try {
        body = readFileSync(join(app.varDir, "media", path));
      } catch {
        served.push({ path, status: 404 });
        res.writeHead(404);
        res.end();
        return;
      }
      served.push({ path, status: 200 });
      const type = path.endsWith(".m3u8") ? "application/vnd.apple.mpegurl" : "video/mp2t";
      // no-store, unlike a real distribution, so that the test sees every
      // fetch the player makes (none comes from the browser's cache).
      res.writeHead(200, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    });
    server.listen(0, "127.0.0.1", () => resolve({ server, base: `http://127.0.0.1:${server.address().port}` }));
  });
}

before(async () => {
  cdn = await startCdn();
  app = await startApp({
    seed: true,
    seedVideos: 1,
    env: {
      MEDIA_CDN_BASE: cdn.base,
      MEDIA_CDN_KEY_ID: KEY_ID,
      MEDIA_CDN_KEY_FILE: join(FIXTURES, "private.pem"),
    },
  });
  browser = await startBrowser();
});

after(async () => {
  await browser?.close();
  await app?.stop();
  cdn?.server.close();
});

for (const [viewport, options] of Object.entries(VIEWPORTS)) {
  test(`a lesson plays from the CDN with signed cookies (${viewport})`, async () => {
    const { page, problems, context } = await openPage(browser, options);
    await page.goto(`${app.base}/signup`);
    await signUp(page, { email: `cdn-${viewport}-${Date.now()}@example.com`, nickname: "시청자", password: "시청 테스트 비밀번호" }, app);
    await page.goto(`${app.base}/`);
    await page.locator("[data-roadmap-step] a").first().click();
    await page.getByRole("link", { name: "브라우저와 서버의 대화" }).click();
    await page.waitForURL(/\/learn\/topics\//);

    for (const [round, until] of [["first visit", 2], ["after a reload", 4]]) {
      const before = served.length;
      const video = page.locator("#player");
      await video.waitFor({ timeout: 120_000 });
      await video.evaluate((v) => (v.muted = true));
      await page.getByRole("button", { name: "재생", exact: true }).click();
      await page.waitForFunction((t) => document.getElementById("player").currentTime > t, until, { timeout: 30_000 });
      const now = served.slice(before);
      assert.ok(now.some((r) => r.path.endsWith(".ts") && r.status === 200), `${round}: segments from the CDN ${JSON.stringify(now)}`);
      assert.ok(now.some((r) => r.path.endsWith("index.m3u8") && r.status === 200), `${round}: a rendition playlist from the CDN`);
      assert.deepEqual(now.filter((r) => r.status !== 200), [], `${round}: nothing refused`);
      if (round === "first visit") await page.reload();
    }
    // The cookies are the browser's alone: scripts on the page cannot read them.
    assert.equal(await page.evaluate(() => document.cookie.includes("CloudFront")), false);
    const cookies = await context.cookies();
    assert.ok(cookies.some((c) => c.name === "CloudFront-Signature" && c.httpOnly && c.path.startsWith("/videos/")));
    assert.deepEqual(problems, []);
    await context.close();
  });
}
