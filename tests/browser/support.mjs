// Starts the real `weaverse serve` against a fresh database and a headless
// Debian Chromium; every browser test uses these helpers.
import { spawn, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

/** A database URL beside DATABASE_URL's, with a fresh name. */
function freshDatabaseUrl() {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error("DATABASE_URL must be set (make browser-test sets it)");
  const url = new URL(base);
  url.pathname = `/weaverse_e2e_${randomBytes(4).toString("hex")}`;
  return url.toString();
}

function dropDatabase(databaseUrl) {
  const url = new URL(databaseUrl);
  const name = url.pathname.slice(1);
  url.pathname = "/postgres";
  try {
    execFileSync("psql", [url.toString(), "-q", "-c", `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`], {
      stdio: "ignore",
    });
  } catch {
    // Leaving a test database behind is untidy, not a failure.
  }
}

export async function startApp({ seed = false, admin = null, seedVideos = 0, env = {} } = {}) {
  const bin = process.env.WEAVERSE_BIN;
  if (!bin) throw new Error("WEAVERSE_BIN must point at the built weaverse binary");
  const port = await freePort();
  const databaseUrl = freshDatabaseUrl();
  const varDir = mkdtempSync(join(tmpdir(), "weaverse-e2e-"));
  // The grading sandbox (VAR_DIR/sandbox) runs as nobody, who must pass
  // through this folder; mkdtemp makes it private.
  chmodSync(varDir, 0o755);
  if (admin) {
    // The same binary creates the database, migrates it and the admin.
    execFileSync(bin, ["create-admin", "--email", admin.email], {
      env: { ...process.env, DATABASE_URL: databaseUrl, VAR_DIR: varDir, RUST_LOG: "warn", WEAVERSE_ADMIN_PASSWORD: admin.password },
      stdio: "ignore",
    });
  }
  const child = spawn(bin, seed ? ["serve", "--seed-demo"] : ["serve"], {
    env: {
      ...process.env,
      APP_ENV: "test",
      HOST: "127.0.0.1",
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      VAR_DIR: varDir,
      RUST_LOG: "warn",
      // Demo clips cost seconds each: only the journeys that play one make it.
      SEED_VIDEOS: String(seedVideos),
      ...env,
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`weaverse serve exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error("weaverse serve did not become healthy in 60 s");
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base,
    varDir,
    /** The first link containing `path` in the newest mail to `to`. */
    async mailLink(to, path) {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const link = findMailLink(join(varDir, "mail"), to, path);
        if (link) return link;
        if (Date.now() > deadline) throw new Error(`no mail to ${to} with ${path}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
      dropDatabase(databaseUrl);
    },
  };
}

export async function startBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
}

/** A page that records console errors, CSP violations and failed requests. */
export async function openPage(browser, options = {}) {
  const context = await browser.newContext({ locale: "ko-KR", ...options });
  // A Content-Security-Policy violation is a failure even when the browser
  // would only note it quietly.
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI || "inline"}`);
    });
  });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("requestfailed", (req) => {
    // A load the browser dropped because the page moved on is not a failure.
    if (req.failure()?.errorText === "net::ERR_ABORTED") return;
    problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`);
  });
  page.on("response", (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  // axe-core on every page this journey loads (serious and critical fail);
  // `audited()` waits for the checks still running. A page left before its
  // check finished is checked by the tour instead.
  const pending = [];
  page.on("load", () => {
    const url = page.url();
    pending.push(
      axe(page)
        .then((found) => problems.push(...found.map((v) => `axe ${new URL(url).pathname}: ${v}`)))
        .catch(() => {}),
    );
  });
  const audited = () => Promise.all(pending);
  return { context, page, problems, audited };
}

/** Reads the .eml files lettre wrote (base64 bodies) and finds a link. */
function findMailLink(dir, to, path) {
  let files;
  try {
    files = readdirSync(dir).map((f) => join(dir, f));
  } catch {
    return null;
  }
  files.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  for (const file of files) {
    const raw = readFileSync(file, "utf8");
    const [head, ...rest] = raw.split(/\r?\n\r?\n/);
    if (!head.includes(`To: ${to}`)) continue;
    const body = /Content-Transfer-Encoding: base64/i.test(head)
      ? Buffer.from(rest.join("").replace(/\s+/g, ""), "base64").toString("utf8")
      : rest.join("\n");
    const link = body.split(/\s+/).find((w) => w.startsWith("http") && w.includes(path));
    if (link) return link;
  }
  return null;
}

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const ARTIFACTS = process.env.ARTIFACTS_DIR || join(process.cwd(), "artifacts", "screenshots");

/** The two screens every page is checked on. */
export const VIEWPORTS = {
  desktop: { viewport: { width: 1280, height: 800 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
};

/**
 * Runs axe-core (WCAG 2.2 A/AA rules) on the page as it is and returns the
 * serious and critical violations, one line each.
 */
export async function axe(page) {
  await page.evaluate(AXE);
  // A target only too small because the sticky navbar's links cover part
  // of it at this scroll position (axe runs while a page jumps to
  // `#result` or reloads at an anchor) says nothing about the page: the same
  // target is whole a little higher. Seen in CI on a flash message's close
  // button and the mission page's way back. Such nodes are marked here, where
  // the covering elements can be looked up.
  const run = () =>
    page.evaluate(async () => {
      const result = await window.axe.run(document, {
        runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] },
      });
      for (const v of result.violations.filter((v) => v.id === "target-size")) {
        for (const n of v.nodes) {
          const size = n.any.find((c) => c.id === "target-size");
          const by = size?.relatedNodes ?? [];
          n.underNavbar =
            /^partiallyObscured/.test(String(size?.data?.messageKey ?? "")) &&
            by.length > 0 &&
            by.every((r) => document.querySelector(r.target.at(-1))?.closest("nav.navbar") != null);
        }
      }
      return result;
    });
  // Seen once in CI: "Axe is already running" on a page's first run (a
  // second injection racing the first); wait for it and run again.
  let result;
  for (let tries = 1; ; tries++) {
    try {
      result = await run();
      break;
    } catch (err) {
      if (tries >= 4 || !/already running/.test(String(err))) throw err;
      await page.waitForTimeout(500 * tries);
    }
  }
  if (process.env.AXE_DEBUG) {
    for (const v of result.violations.filter((v) => v.id === "target-size")) {
      console.log(JSON.stringify(v.nodes.map((n) => ({ html: n.html, any: n.any })), null, 1));
    }
  }
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({ ...v, nodes: v.nodes.filter((n) => !n.underNavbar) }))
    .filter((v) => v.nodes.length > 0)
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
}

/** A full-page screenshot into artifacts/screenshots (a CI artefact). */
export async function screenshot(page, name) {
  const file = join(ARTIFACTS, `${name}.png`);
  mkdirSync(dirname(file), { recursive: true });
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Signs in through the login form and waits for the role's home (an admin's is /admin). */
export async function login(page, base, email, password) {
  await page.goto(`${base}/login`);
  await page.getByLabel("이메일").fill(email);
  await page.getByLabel("비밀번호").fill(password);
  await page.getByRole("button", { name: "로그인" }).click();
  await page.waitForURL((url) => url.pathname === "/" || url.pathname === "/admin");
}

/**
 * Fills the sign-up form that is open (its two required consents ticked)
 * and waits for "check your mail"; then follows the mailed link, which signs
 * the learner in, when `app` is given.
 */
export async function signUp(page, { email, nickname, password }, app = null) {
  await page.getByLabel("이메일").fill(email);
  await page.getByLabel("닉네임 (2~20자)").fill(nickname);
  await page.getByLabel("비밀번호 (10자 이상)").fill(password);
  await page.getByLabel("[필수] 이용약관에 동의합니다.").check();
  await page.getByLabel("[필수] 개인정보 수집·이용에 동의합니다.").check();
  await page.getByRole("button", { name: "가입하기" }).click();
  await page.getByRole("heading", { name: "메일을 확인해 주세요" }).waitFor();
  if (app) {
    await page.goto(await app.mailLink(email, "/verify-email/"));
  }
}
