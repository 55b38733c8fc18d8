// A learner stuck in a lesson asks the AI tutor beside the video (a local
// OpenAI-compatible server stands in for the model, writing slowly), sees
// the answer arrive piece by piece, clicks the [mm:ss] it cites and the
// video moves there; after a reload the conversation is still there, and
// "새 대화" starts over. On a desktop and on a phone.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { VIEWPORTS, openPage, signUp, startApp, startBrowser } from "./support.mjs";

const PIECES = ["상태 코드는 ", "서버가 요청을 ", "어떻게 처리했는지 알려 줍니다. ", "[00:18] 장면을 보세요."];
let model;
let requests = 0;
let app;
let browser;

/** OpenAI's streamed chat completions, one piece every 400 ms. */
function startModel() {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", async () => {
        requests += 1;
        if (req.url !== "/v1/chat/completions" || req.headers.authorization !== "Bearer sk-browser-test") {
          res.writeHead(401, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: { message: "Incorrect API key provided.", type: "invalid_request_error", code: "invalid_api_key" } }));
          return;
        }
        const { model: name } = JSON.parse(body);
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        const chunk = (delta, finish = null) =>
          `data: ${JSON.stringify({ id: "chatcmpl-b", object: "chat.completion.chunk", created: 1, model: name, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
        res.write(chunk({ role: "assistant", content: "" }));
        for (const piece of PIECES) {
          await new Promise((r) => setTimeout(r, 400));
          res.write(chunk({ content: piece }));
        }
        res.write(chunk({}, "stop"));
        res.write(`data: ${JSON.stringify({ id: "chatcmpl-b", object: "chat.completion.chunk", created: 1, model: name, choices: [], usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 } })}\n\n`);
        res.end("data: [DONE]\n\n");
      });
    });
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

before(async () => {
  model = await startModel();
  app = await startApp({
    seed: true,
    seedVideos: 1,
    env: {
      TUTOR_API_BASE: `http://127.0.0.1:${model.address().port}/v1`,
      TUTOR_API_KEY: "sk-browser-test",
      TUTOR_MODEL: "browser-test-model",
    },
  });
  browser = await startBrowser();
});

after(async () => {
  await browser?.close();
  await app?.stop();
  model?.close();
});

for (const [viewport, options] of Object.entries(VIEWPORTS)) {
  test(`ask the tutor, watch the answer stream in, jump to the cited moment (${viewport})`, async () => {
    const { page, problems, audited } = await openPage(browser, options);
    await page.goto(`${app.base}/signup`);
    await signUp(page, { email: `asker${viewport}${Date.now()}@example.com`, nickname: "질문자", password: "튜터 테스트 비밀번호" }, app);
    await page.waitForURL(`${app.base}/me`);

    // The demo's first lesson is a free preview with a video.
    await page.goto(`${app.base}/`);
    await page.locator("[data-roadmap-step] a").first().click();
    await page.getByRole("link", { name: "브라우저와 서버의 대화" }).click();
    await page.waitForURL(/\/learn\/topics\//);
    const video = page.locator("#player");
    await video.waitFor({ timeout: 120_000 });
    await page.waitForFunction(() => document.getElementById("player").readyState >= 1, null, { timeout: 30_000 });

    // The panel opens from the keyboard, under the video.
    const summary = page.locator("[data-tutor] summary");
    await summary.focus();
    await page.keyboard.press("Enter");
    const box = page.getByLabel("질문", { exact: true });
    await box.waitFor();
    const videoBox = await video.boundingBox();
    const panelBox = await page.locator("[data-tutor]").boundingBox();
    assert.ok(panelBox.y >= videoBox.y + videoBox.height - 1, "the tutor is under the video");

    await video.evaluate((v) => (v.currentTime = 3));
    await box.fill("상태 코드가 뭐예요?");
    const before = requests;
    await box.press("Enter");

    // The answer arrives while it is being written...
    const streaming = page.locator("[data-stream]");
    await page.waitForFunction(() => {
      const s = document.querySelector("[data-stream]");
      return s && s.textContent.startsWith("상태 코드는");
    }, null, { timeout: 10_000 });
    assert.ok(!(await streaming.textContent()).includes("[00:18]"), "not all at once");
    // ...and ends as the server's markup, the moment a link.
    const answered = page.locator("[data-turn][data-state='answered']");
    await answered.waitFor({ timeout: 15_000 });
    assert.equal(requests, before + 1);
    assert.match(await answered.locator("[data-answer-text]").innerText(), /서버가 요청을 어떻게 처리했는지/);
    assert.equal(await answered.locator("[data-question]").innerText(), "상태 코드가 뭐예요?");
    assert.equal(await box.inputValue(), "");

    await answered.locator("[data-answer-text] a", { hasText: "00:18" }).click();
    await page.waitForFunction(() => Math.abs(document.getElementById("player").currentTime - 18) < 1.5);
    assert.match(page.url(), /\/learn\/topics\/[^#]+$/, "the page stayed");

    // After a reload the conversation is still there; "새 대화" clears it.
    await page.reload();
    await page.locator("[data-tutor] summary").click();
    await page.locator("[data-turn][data-state='answered']").waitFor();
    await page.getByRole("button", { name: "새 대화" }).click();
    await page.locator("[data-tutor-empty]").waitFor();
    assert.equal(await page.locator("[data-turn]").count(), 0);

    await audited();
    assert.deepEqual(problems, []);
  });
}
