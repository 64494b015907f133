// A program running in a page on another origin, in real Chromium, uses the server as
// the MCP Inspector's web UI or an SDK client in a page does: discovery, registration,
// the sign-in (consent clicked in a second tab, the code landing on the page's origin),
// the token exchange, and `/mcp` calls carrying Authorization, Mcp-Session-Id and an
// Mcp-Param-* header; then what must fail: credentialed requests and `/authorize`.
//
//   node chromium-cors.mjs '{"origin": "<server>", "pageHost": "127.0.0.2", "pagePort": 0}'
//
// Prints what each step saw as JSON (a step the browser blocked reads "blocked");
// exits non-zero on browser problems on the server's pages.

import http from "node:http";
import { createHash, randomBytes } from "node:crypto";
import { launch, watchedPage } from "./chromium.mjs";

const { origin, pageHost = "localhost", pagePort = 0, user = "cors-user" } = JSON.parse(process.argv[2] ?? "{}");
if (!origin) {
  console.error("usage: node chromium-cors.mjs '{\"origin\": \"http://127.0.0.1:3000\"}'");
  process.exit(2);
}

// The foreign page: an empty document on its own origin, and the client's callback.
const site = http.createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end("<!doctype html><title>A browser MCP client</title><p>client</p>");
});
await new Promise((resolve) => site.listen(pagePort, pageHost, resolve));
const pageOrigin = `http://${pageHost}:${site.address().port}`;
const redirectUri = `${pageOrigin}/callback`;

const browser = await launch();
const client = await watchedPage(browser);
const consent = await watchedPage(browser);
const seen = { pageOrigin };
try {
  await client.page.goto(`${pageOrigin}/`);
  // Each call runs in the page, so the browser applies CORS exactly as to a real client.
  const inPage = (fn, arg) => client.page.evaluate(fn, arg);
  const discovery = await inPage(async (server) => {
    const get = async (path) => {
      try {
        // MCP-Protocol-Version is not CORS-safelisted: the browser sends a preflight.
        const res = await fetch(server + path, { headers: { "MCP-Protocol-Version": "2025-06-18" } });
        return { status: res.status, body: await res.json() };
      } catch (e) {
        return { status: "blocked", error: String(e) };
      }
    };
    return {
      prm: await get("/.well-known/oauth-protected-resource/mcp"),
      prmRoot: await get("/.well-known/oauth-protected-resource"),
      as: await get("/.well-known/oauth-authorization-server"),
    };
  }, origin);
  seen.discovery = discovery;

  const registration = await inPage(async ({ server, redirectUri }) => {
    try {
      const res = await fetch(server + "/register", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ client_name: "A page", redirect_uris: [redirectUri], token_endpoint_auth_method: "none", grant_types: ["authorization_code", "refresh_token"] }),
      });
      return { status: res.status, body: await res.json() };
    } catch (e) {
      return { status: "blocked", error: String(e) };
    }
  }, { server: origin, redirectUri });
  seen.registration = { status: registration.status };
  const clientId = registration.body?.client_id;
  if (!clientId) throw new Error(`registration failed: ${JSON.stringify(registration)}`);

  // The sign-in is a top-level navigation, in a tab of its own.
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const authorize = new URL("/authorize", origin);
  for (const [k, v] of Object.entries({
    response_type: "code", client_id: clientId, redirect_uri: redirectUri, state: "page-state",
    code_challenge: challenge, code_challenge_method: "S256", resource: new URL("/mcp", origin).href,
  })) authorize.searchParams.set(k, v);
  await consent.page.goto(authorize.href);
  if (await consent.page.locator("input#user").count()) await consent.page.fill("input#user", user);
  await consent.page.click('button[value="approve"]');
  const code = new URL(await consent.requested(redirectUri)).searchParams.get("code");

  const calls = await inPage(async ({ server, clientId, code, verifier, redirectUri }) => {
    const out = {};
    const attempt = async (name, fn) => {
      try {
        out[name] = await fn();
      } catch (e) {
        out[name] = { status: "blocked", error: String(e) };
      }
    };
    const form = (fields) => new URLSearchParams(fields).toString();
    let tokens;
    await attempt("token", async () => {
      const res = await fetch(server + "/token", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: form({ grant_type: "authorization_code", code, code_verifier: verifier, redirect_uri: redirectUri, client_id: clientId }),
      });
      tokens = await res.json();
      return { status: res.status, scope: tokens.scope, has_access_token: !!tokens.access_token };
    });
    await attempt("tokenError", async () => {
      const res = await fetch(server + "/token", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: form({ grant_type: "authorization_code", code: "spent-or-unknown", code_verifier: verifier, client_id: clientId }),
      });
      return { status: res.status, error: (await res.json()).error };
    });
    const mcp = (headers, body) =>
      fetch(server + "/mcp", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
        body: JSON.stringify(body),
      });
    await attempt("unauthenticated", async () => {
      const res = await mcp({}, { jsonrpc: "2.0", id: 1, method: "ping" });
      return { status: res.status, www_authenticate: res.headers.get("www-authenticate") };
    });
    const bearer = { authorization: `Bearer ${tokens?.access_token}` };
    let session;
    await attempt("initialize", async () => {
      const res = await mcp(bearer, {
        jsonrpc: "2.0", id: 1, method: "initialize",
        params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "page", version: "1" } },
      });
      session = res.headers.get("mcp-session-id");
      return { status: res.status, session_id: !!session, protocol: (await res.json()).result?.protocolVersion };
    });
    await attempt("sessionCall", async () => {
      const res = await mcp(
        { ...bearer, "mcp-session-id": session, "mcp-protocol-version": "2025-06-18", "mcp-param-region": "eu-west" },
        { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "add", arguments: { a: 2, b: 3 } } },
      );
      return { status: res.status, sum: (await res.json()).result?.structuredContent?.sum };
    });
    await attempt("statelessCall", async () => {
      const res = await mcp(
        { ...bearer, "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "add", "mcp-param-region": "eu-west" },
        {
          jsonrpc: "2.0", id: 3, method: "tools/call",
          params: { name: "add", arguments: { a: 4, b: 5 }, _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} } },
        },
      );
      return { status: res.status, sum: (await res.json()).result?.structuredContent?.sum };
    });
    // Never credentials: a credentialed request is refused by the browser itself.
    await attempt("credentialedMetadata", async () => {
      const res = await fetch(server + "/.well-known/oauth-protected-resource/mcp", { credentials: "include" });
      return { status: res.status };
    });
    await attempt("credentialedMcp", async () => {
      const res = await fetch(server + "/mcp", {
        method: "POST", credentials: "include",
        headers: { "content-type": "application/json", ...bearer },
        body: JSON.stringify({ jsonrpc: "2.0", id: 4, method: "ping" }),
      });
      return { status: res.status };
    });
    // The authorization endpoint is for navigation only.
    await attempt("authorize", async () => {
      const res = await fetch(server + "/authorize?client_id=" + encodeURIComponent(clientId));
      return { status: res.status };
    });
    return out;
  }, { server: origin, clientId, code, verifier, redirectUri });
  Object.assign(seen, calls);
  // The page's own console reports each refused request; only the server's pages are
  // held to "no problems".
  seen.problems = consent.problems;
} finally {
  await browser.close();
  site.close();
}
console.log(JSON.stringify(seen));
if (seen.problems.length) {
  console.error(`browser problems: ${JSON.stringify(seen.problems)}`);
  process.exit(1);
}
