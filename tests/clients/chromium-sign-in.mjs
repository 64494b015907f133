// A whole sign-in by the official TypeScript SDK's OAuth client, with real Chromium as
// the browser it sends the user to: discovery from the 401, registration, the consent
// page clicked in Chromium (local sign-in typed in when the page offers it, or the
// app's Clerk hop), the redirect to the client observed through CDP, the code
// exchanged, then tools listed and called with the SDK's client.
//
//   node chromium-sign-in.mjs '<options as JSON>'
//
// Options: origin (the server), redirect ("loopback" | "https" | "scheme"), decision
// ("approve" | "deny"), omitResource (send `resource` on neither /authorize nor /token,
// as Claude Code does), scope (what the client asks for instead of the server's
// scopes, e.g. the OIDC scopes clients copy from elsewhere), user (local sign-in).
// Prints a JSON summary; exits non-zero on any failure, browser problems included.

import http from "node:http";
import { auth, extractWWWAuthenticateParams } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { launch, watchedPage } from "./chromium.mjs";
import { MemoryProvider } from "./memory-provider.mjs";

const options = JSON.parse(process.argv[2] ?? "{}");
const { origin, redirect = "loopback", decision = "approve", omitResource = false, scope, user = "chromium-user" } = options;
if (!origin) {
  console.error("usage: node chromium-sign-in.mjs '{\"origin\": \"http://127.0.0.1:3000\", …}'");
  process.exit(2);
}
const serverUrl = new URL("/mcp", origin);

// A loopback client listens for its code (RFC 8252 §7.3); the others are only observed.
let callbackServer;
let redirectUrl;
if (redirect === "loopback") {
  callbackServer = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end("<!doctype html><title>Signed in</title><p>You can close this window.</p>");
  });
  await new Promise((resolve) => callbackServer.listen(0, "127.0.0.1", resolve));
  redirectUrl = `http://127.0.0.1:${callbackServer.address().port}/oauth/callback`;
} else if (redirect === "https") {
  redirectUrl = "https://client.example.test/oauth/callback";
} else if (redirect === "scheme") {
  redirectUrl = "cursor://anysphere.cursor-retrieval/oauth/user-clerk-mcp/callback";
} else {
  throw new Error(`unknown redirect kind ${redirect}`);
}

const browser = await launch();
const watched = await watchedPage(browser);
const sent = { authorize: null, token: [] };

class ChromiumProvider extends MemoryProvider {
  landed = undefined;
  async redirectToAuthorization(url) {
    sent.authorize = url.href;
    const { page } = watched;
    await page.goto(url.href);
    if (await page.locator("input#user").count()) await page.fill("input#user", user);
    await page.click(`button[value="${decision}"]`);
    this.landed = new URL(await watched.requested(redirectUrl));
  }
}
if (omitResource) {
  // The SDK names the resource unless the provider decides otherwise.
  ChromiumProvider.prototype.validateResourceURL = async () => undefined;
}

// Every /token request the SDK sends, to show what it carried.
const recordingFetch = async (input, init) => {
  if (String(input).endsWith("/token") && init?.body) sent.token.push(String(init.body));
  return fetch(input, init);
};

const summary = { redirect, decision, omitResource };
try {
  const challenge = await fetch(serverUrl, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }),
  });
  if (challenge.status !== 401) throw new Error(`expected 401 without a token, got ${challenge.status}`);
  const { resourceMetadataUrl, scope: challenged } = extractWWWAuthenticateParams(challenge);
  const provider = new ChromiumProvider({ clientName: `Chromium ${redirect} client`, redirectUrl });
  const requestedScope = scope ?? challenged;
  const first = await auth(provider, { serverUrl, resourceMetadataUrl, scope: requestedScope, fetchFn: recordingFetch });
  if (first !== "REDIRECT") throw new Error(`expected REDIRECT, got ${first}`);
  const landed = provider.landed;
  summary.authorize_had_resource = new URL(sent.authorize).searchParams.has("resource");
  summary.landed = `${landed.protocol}//${landed.host}${landed.pathname}`;
  summary.error = landed.searchParams.get("error");
  summary.state_returned = landed.searchParams.get("state") === new URL(sent.authorize).searchParams.get("state");
  summary.iss = landed.searchParams.get("iss");
  summary.pages = watched.visited.filter((u) => u.startsWith(origin));
  if (decision === "approve") {
    const code = landed.searchParams.get("code") ?? (() => { throw new Error(`no code: ${landed}`); })();
    const second = await auth(provider, { serverUrl, resourceMetadataUrl, scope: requestedScope, authorizationCode: code, fetchFn: recordingFetch });
    if (second !== "AUTHORIZED") throw new Error(`expected AUTHORIZED, got ${second}`);
    summary.token_had_resource = sent.token.some((body) => new URLSearchParams(body).has("resource"));
    summary.scope = provider.tokens().scope;
    const client = new Client({ name: "chromium-sign-in", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(serverUrl, { authProvider: provider }));
    const { tools } = await client.listTools();
    summary.tools = tools.map((t) => t.name);
    summary.sum = (await client.callTool({ name: "add", arguments: { a: 2, b: 3 } })).structuredContent?.sum;
    summary.user_id = (await client.callTool({ name: "whoami", arguments: {} })).structuredContent?.user_id;
    await client.close();
  }
  summary.problems = watched.problems;
} finally {
  await browser.close();
  callbackServer?.close();
}
console.log(JSON.stringify(summary));
if (summary.problems.length) {
  console.error(`browser problems: ${JSON.stringify(summary.problems)}`);
  process.exit(1);
}
