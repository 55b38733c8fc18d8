// Signing in with Kakao, Naver and Google, each against a local twin of the
// provider that follows its contract (Kakao and Google: OpenID Connect with
// discovery, JWKS, PKCE and a signed ID token, Kakao's email_verified at its
// UserInfo endpoint; Naver: OAuth 2.0 with state and its profile API). The
// person clicks the brand button, approves at the provider, agrees to the
// terms and lands on their account page; then links a second provider there
// and unlinks it. On a phone and on a desktop, and after a reload.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createHash, createSign, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { VIEWPORTS, openPage, screenshot, startApp, startBrowser } from "./support.mjs";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "oidc");
const PRIVATE_KEY = readFileSync(join(FIXTURES, "good.pem"));
const MODULUS = readFileSync(join(FIXTURES, "good.n"), "utf8").trim();
const CLIENT = { id: "browser-client", secret: "browser-secret" };

const b64url = (buf) => Buffer.from(buf).toString("base64url");

function signJwt(claims) {
  const head = b64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid: "good" }));
  const body = b64url(JSON.stringify(claims));
  const sign = createSign("RSA-SHA256");
  sign.update(`${head}.${body}`);
  return `${head}.${body}.${b64url(sign.sign(PRIVATE_KEY))}`;
}

/** The page a provider shows: who signs in, and one button to approve. */
function consentPage(res, title, query) {
  const hidden = Object.entries(query)
    .map(([k, v]) => `<input type="hidden" name="${k}" value="${String(v).replace(/"/g, "&quot;")}">`)
    .join("");
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end(`<!doctype html><html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${title}</title></head><body><main><h1>${title}</h1>
<form method="get" action="/approve">${hidden}<button type="submit">동의하고 계속하기</button></form></main></body></html>`);
}

function readBody(req) {
  return new Promise((resolve) => {
    let data = "";
    req.on("data", (c) => (data += c));
    req.on("end", () => resolve(new URLSearchParams(data)));
  });
}

const json = (res, status, body) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};

/**
 * A provider twin. `kind` is "google", "kakao" or "naver"; `person` is who
 * signs in there.
 */
function startProvider(kind, person) {
  const codes = new Map();
  const tokens = new Map();
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, base());
    const q = Object.fromEntries(url.searchParams);
    const path = url.pathname;
    if (path === "/.well-known/openid-configuration" && kind !== "naver") {
      return json(res, 200, {
        issuer: base(),
        authorization_endpoint: `${base()}/authorize`,
        token_endpoint: `${base()}/token`,
        jwks_uri: `${base()}/jwks`,
        ...(kind === "kakao" ? { userinfo_endpoint: `${base()}/v1/oidc/userinfo` } : {}),
        code_challenge_methods_supported: ["S256"],
      });
    }
    if (path === "/jwks") {
      return json(res, 200, { keys: [{ kty: "RSA", use: "sig", alg: "RS256", kid: "good", n: MODULUS, e: "AQAB" }] });
    }
    if (path === "/authorize" || path === "/oauth2.0/authorize") {
      if (q.client_id !== CLIENT.id || q.response_type !== "code" || !q.state) return json(res, 400, { error: "invalid_request" });
      if (kind !== "naver" && q.code_challenge_method !== "S256") return json(res, 400, { error: "invalid_request" });
      return consentPage(res, `${kind} 로그인 (테스트)`, q);
    }
    if (path === "/approve") {
      const code = randomUUID();
      codes.set(code, q);
      const back = new URL(q.redirect_uri);
      back.searchParams.set("code", code);
      back.searchParams.set("state", q.state);
      res.writeHead(302, { location: back.toString() });
      return res.end();
    }
    if (path === "/token" && req.method === "POST") {
      const form = await readBody(req);
      const asked = codes.get(form.get("code"));
      codes.delete(form.get("code"));
      if (form.get("client_id") !== CLIENT.id || form.get("client_secret") !== CLIENT.secret) {
        return json(res, 401, { error: "invalid_client" });
      }
      const challenge = createHash("sha256").update(form.get("code_verifier") || "").digest("base64url");
      if (!asked || asked.code_challenge !== challenge || asked.redirect_uri !== form.get("redirect_uri")) {
        return json(res, 400, { error: "invalid_grant", error_code: "KOE320" });
      }
      const now = Math.floor(Date.now() / 1000);
      const access = randomUUID();
      tokens.set(access, person);
      const claims = { iss: base(), aud: CLIENT.id, sub: person.sub, email: person.email, nonce: asked.nonce, iat: now, exp: now + 600 };
      if (kind === "google") Object.assign(claims, { email_verified: true, name: person.name });
      else claims.nickname = person.name;
      return json(res, 200, { access_token: access, token_type: "bearer", id_token: signJwt(claims), expires_in: 600 });
    }
    if (path === "/oauth2.0/token") {
      const asked = codes.get(q.code);
      codes.delete(q.code);
      if (!asked || q.client_id !== CLIENT.id || q.client_secret !== CLIENT.secret || q.state !== asked.state) {
        return json(res, 200, { error: "invalid_request", error_description: "no valid data in session" });
      }
      const access = randomUUID();
      tokens.set(access, person);
      return json(res, 200, { access_token: access, refresh_token: "r", token_type: "bearer", expires_in: "3600" });
    }
    const who = tokens.get((req.headers.authorization || "").replace(/^Bearer /, ""));
    if (path === "/v1/oidc/userinfo") {
      if (!who) return json(res, 401, { msg: "this access token does not exist", code: -401 });
      return json(res, 200, { sub: who.sub, nickname: who.name, email: who.email, email_verified: true });
    }
    if (path === "/v1/nid/me") {
      if (!who) return json(res, 401, { resultcode: "024", message: "Authentication failed" });
      return json(res, 200, { resultcode: "00", message: "success", response: { id: who.sub, email: who.email, nickname: who.name } });
    }
    // The browser asks a page's origin for its icon; the twin has none.
    if (path === "/favicon.ico") {
      res.writeHead(204);
      return res.end();
    }
    json(res, 404, { error: "not_found" });
  });
  const base = () => `http://127.0.0.1:${server.address().port}`;
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, base: base() })));
}

let app;
let browser;
const twins = {};
const people = {
  kakao: { sub: "kakao-4021", email: "kakao-friend@example.com", name: "카카오친구" },
  naver: { sub: "naver-77", email: "naver-user@example.com", name: "네이버이웃" },
  google: { sub: "google-9", email: "google-user@example.com", name: "구글사용자" },
};

/** The app's settings for these providers, each pointed at its twin. */
function providerSettings(kinds) {
  const env = {};
  for (const kind of kinds) {
    const name = kind.toUpperCase();
    env[`${name}_CLIENT_ID`] = CLIENT.id;
    env[`${name}_CLIENT_SECRET`] = CLIENT.secret;
    if (kind === "naver") {
      env.NAVER_AUTH_BASE = twins.naver.base;
      env.NAVER_API_BASE = twins.naver.base;
    } else {
      env[`${name}_ISSUER`] = twins[kind].base;
    }
  }
  return env;
}

before(async () => {
  for (const kind of ["kakao", "naver", "google"]) twins[kind] = await startProvider(kind, people[kind]);
  app = await startApp({ env: providerSettings(["kakao", "naver", "google"]) });
  browser = await startBrowser();
});

after(async () => {
  await browser?.close();
  await app?.stop();
  for (const twin of Object.values(twins)) twin.server.close();
});

const BUTTONS = { kakao: "카카오 로그인", naver: "네이버 로그인", google: "Google 계정으로 로그인" };
const LABELS = { kakao: "카카오", naver: "네이버", google: "Google" };

/** From the login page through the provider and the terms to `/me`. */
async function signInWith(page, kind) {
  await page.goto(`${app.base}/login?next=%2Fme`);
  const button = page.getByRole("link", { name: BUTTONS[kind] });
  // A thumb-sized target on every screen.
  const box = await button.boundingBox();
  assert.ok(box.height >= 44, `${kind} button is ${box.height}px tall`);
  await button.click();
  await page.waitForURL((url) => url.origin === twins[kind].base);
  await page.getByRole("button", { name: "동의하고 계속하기" }).click();
  await page.waitForURL((url) => url.pathname === "/me/consents");
  await page.getByLabel("[필수] 이용약관에 동의합니다.").check();
  await page.getByLabel("[필수] 개인정보 수집·이용에 동의합니다.").check();
  await page.getByRole("button", { name: "동의하고 계속하기" }).click();
  await page.waitForURL(`${app.base}/me`);
  const method = page.locator(`[data-sign-in-method="${kind}"]`);
  assert.equal(await method.getAttribute("data-linked"), "true");
  assert.match(await page.textContent("main"), new RegExp(people[kind].email));
}

for (const [kind, screen] of [["kakao", "phone"], ["naver", "phone"], ["google", "desktop"]]) {
  test(`signs in with ${kind} on a ${screen}, and again after a reload`, async () => {
    const { page, problems, context, audited } = await openPage(browser, VIEWPORTS[screen]);
    await page.goto(`${app.base}/signup`);
    await screenshot(page, `sign-up-buttons-${screen}`);
    await signInWith(page, kind);
    await screenshot(page, `sign-in-${kind}-${screen}`);
    await page.reload();
    assert.equal(await page.locator(`[data-sign-in-method="${kind}"]`).getAttribute("data-linked"), "true");
    // Signed out and in again: the same account, no terms asked twice.
    const menu = page.locator(".navbar-toggler");
    if (await menu.isVisible()) await menu.click();
    await page.getByRole("navigation", { name: "주 메뉴" }).getByRole("button", { name: "로그아웃" }).click();
    await page.waitForURL(`${app.base}/`);
    await page.goto(`${app.base}/login?next=%2Fme`);
    await page.getByRole("link", { name: BUTTONS[kind] }).click();
    await page.getByRole("button", { name: "동의하고 계속하기" }).click();
    await page.waitForURL(`${app.base}/me`);
    await audited();
    assert.deepEqual(problems, []);
    await context.close();
  });
}

test("links a second provider on the account page and unlinks it, keeping one way in", async () => {
  const { page, problems, context, audited } = await openPage(browser, VIEWPORTS.phone);
  twins.naver.server.close();
  // Kakao's person signs in; Naver's twin now stands for the same person's Naver account.
  twins.naver = await startProvider("naver", { sub: "naver-of-kakao-friend", email: "other@example.com", name: "같은사람" });
  await app.stop();
  app = await startApp({ env: providerSettings(["kakao", "naver"]) });
  await signInWith(page, "kakao");
  const naver = page.locator('[data-sign-in-method="naver"]');
  assert.equal(await naver.getAttribute("data-linked"), "false");
  await naver.getByRole("button", { name: `${LABELS.naver} 연결` }).click();
  await page.waitForURL((url) => url.origin === twins.naver.base);
  await page.getByRole("button", { name: "동의하고 계속하기" }).click();
  await page.waitForURL((url) => url.pathname === "/me");
  assert.match(await page.textContent("#page-alerts"), /네이버 계정을 연결했습니다/);
  assert.equal(await naver.getAttribute("data-linked"), "true");

  // Kakao may go now (Naver stays); then Naver is the last way in.
  await page.locator('[data-sign-in-method="kakao"]').getByRole("button", { name: "연결 해제" }).click();
  await page.waitForURL((url) => url.pathname === "/me");
  assert.equal(await page.locator('[data-sign-in-method="kakao"]').getAttribute("data-linked"), "false");
  await page.reload();
  assert.equal(await naver.getAttribute("data-linked"), "true");
  await screenshot(page, "sign-in-methods-phone");
  await naver.getByRole("button", { name: "연결 해제" }).click();
  await page.getByText("로그인할 방법이 없습니다", { exact: false }).waitFor();
  await audited();
  // The refusal is a 409 page, said in words; nothing else went wrong.
  assert.deepEqual(
    problems.filter((p) => !p.startsWith("HTTP 409") && !p.includes("status of 409")),
    [],
  );
  await context.close();
});
