// The connections page in real Chromium: sign in (locally, or through the Clerk app's
// `/auth/mcp` when the server is in Clerk mode), read the approved clients, revoke one
// by its button; then, in the same browser (its cookies present), what a page on another
// origin of the same host tries: a form posted at `/connections` without the page's
// CSRF token, and `/connections` in a frame.
//
//   node chromium-connections.mjs '{"origin": "<server>", "user": "ada", "revoke": "<client name>"}'
//
// Without "user" the sign-in goes through the app. Prints what it saw as JSON.

import http from "node:http";
import { launch, watchedPage } from "./chromium.mjs";

const { origin, user, revoke } = JSON.parse(process.argv[2] ?? "{}");
if (!origin || !revoke) {
  console.error("usage: node chromium-connections.mjs '{\"origin\": \"http://127.0.0.1:3000\", \"revoke\": \"A client\"}'");
  process.exit(2);
}

const names = (page) => page.$$eval("li.connection h2", (hs) => hs.map((h) => h.textContent));

// The other origin: one host, another port (so `SameSite` cookies ride along).
let attack = "";
const site = http.createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end(req.url === "/frame" ? `<!doctype html><title>frame</title><iframe src="${origin}/connections"></iframe>` : attack);
});
await new Promise((resolve) => site.listen(0, "127.0.0.1", resolve));
const siteOrigin = `http://127.0.0.1:${site.address().port}`;

const browser = await launch();
const watched = await watchedPage(browser);
const seen = {};
try {
  const { page } = watched;
  const first = await page.goto(`${origin}/connections`);
  if (user) {
    seen.sign_in_page = await page.title();
    await page.fill("#user", user);
    await Promise.all([page.waitForURL(`${origin}/connections`), page.click("button[value=sign_in]")]);
  } else {
    await page.waitForURL(`${origin}/connections`);
  }
  seen.first_status = first.status();
  seen.text = await page.evaluate(() => document.body.innerText);
  seen.before = await names(page);
  // The first connection named `revoke` goes; the first other one is kept.
  const target = page.locator("li.connection", { hasText: revoke }).first();
  seen.revoked_grant = await target.locator("input[name=grant]").getAttribute("value");
  const grants = await page.$$eval("li.connection input[name=grant]", (inputs) => inputs.map((i) => i.value));
  seen.kept_grant = grants.find((g) => g !== seen.revoked_grant) ?? null;
  const [revoked] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${origin}/connections` && r.request().method() === "POST"),
    target.locator("button[value=revoke]").click(),
  ]);
  await page.waitForLoadState("load");
  seen.revoke_status = revoked.status();
  seen.after = await names(page);
  const cookies = await page.context().cookies(origin);
  seen.cookie = cookies.filter((c) => c.name.startsWith("__Host-mcp_connections")).map((c) => ({
    name: c.name, httpOnly: c.httpOnly, secure: c.secure, sameSite: c.sameSite, path: c.path,
  }));
  seen.problems = watched.problems;

  // Another origin's page posts a revocation of the kept grant, with the user's cookie
  // but without the page's token.
  attack = `<!doctype html><title>attack</title><form method="post" action="${origin}/connections">` +
    `<input name="action" value="revoke"><input name="grant" value="${seen.kept_grant}">` +
    `<input name="csrf" value="guessed"></form><script>document.forms[0].submit()</script>`;
  const attacker = await page.context().newPage();
  const [forged] = await Promise.all([
    attacker.waitForResponse((r) => r.url() === `${origin}/connections` && r.request().method() === "POST"),
    attacker.goto(`${siteOrigin}/attack`),
  ]);
  await attacker.waitForLoadState("load");
  seen.forged_status = forged.status();
  seen.forged_text = await attacker.evaluate(() => document.body.innerText);

  // The page in another origin's frame: Chromium must refuse to show it.
  const framing = await page.context().newPage();
  await framing.goto(`${siteOrigin}/frame`);
  await framing.waitForTimeout(500);
  const child = framing.frames().find((f) => f !== framing.mainFrame());
  seen.frame_url = child?.url() ?? null;
  seen.frame_shows_page = child ? await child.evaluate(() => document.title === "Connected clients").catch(() => false) : false;

  await page.reload();
  seen.after_attacks = await names(page);
} finally {
  await browser.close();
  site.close();
}
console.log(JSON.stringify(seen));
