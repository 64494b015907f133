// The official TypeScript SDK's OAuth client against this server in the resource-server
// mode, where Clerk (a mock of it) is the authorization server, unattended.
//
//   node sdk-clerk-as-flow.mjs '{"origin": "<server>", "issuer": "<Clerk Frontend API>"}'
//
// From our 401 it discovers (RFC 9728 → Clerk's RFC 8414 document), registers at Clerk
// (RFC 7591), authorizes with PKCE (the mock signs the user in at once and redirects,
// which the "browser" step follows) and exchanges the code at Clerk. Then the SDK's
// client lists and calls tools at our /mcp over a 2025-era session, and a 2026-07-28
// request calls one with the same token. Prints a JSON summary; exits non-zero on any
// failure.

import { auth, extractWWWAuthenticateParams } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { MemoryProvider } from "./memory-provider.mjs";

const { origin, issuer } = JSON.parse(process.argv[2] ?? "{}");
if (!origin || !issuer) {
  console.error('usage: node sdk-clerk-as-flow.mjs \'{"origin": "…", "issuer": "…"}\'');
  process.exit(2);
}
const serverUrl = new URL("/mcp", origin);
const redirectUrl = "http://127.0.0.1:7777/oauth/callback";

function fail(message) {
  throw new Error(message);
}

class ClerkProvider extends MemoryProvider {
  pendingCode = undefined;
  authorizationUrl = undefined;
  async redirectToAuthorization(url) {
    this.authorizationUrl = url;
    // Clerk's sign-in, already signed in: one redirect back to the client.
    const answer = await fetch(url, { redirect: "manual" });
    const location = answer.headers.get("location") ?? fail(`authorize answered ${answer.status}`);
    const landed = new URL(location);
    if (!location.startsWith(redirectUrl)) fail(`redirected to ${location}`);
    this.pendingCode = landed.searchParams.get("code") ?? fail("no code in the redirect");
  }
}

const unauthenticated = await fetch(serverUrl, {
  method: "POST",
  headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
  body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "sdk-test", version: "1" } } }),
});
if (unauthenticated.status !== 401) fail(`expected 401 without a token, got ${unauthenticated.status}`);
const { resourceMetadataUrl, scope } = extractWWWAuthenticateParams(unauthenticated);
if (!resourceMetadataUrl) fail("the 401 named no resource_metadata");

const provider = new ClerkProvider({ clientName: "TypeScript SDK test client", redirectUrl });
const first = await auth(provider, { serverUrl, resourceMetadataUrl, scope });
if (first !== "REDIRECT") fail(`expected REDIRECT, got ${first}`);
if (!provider.authorizationUrl.href.startsWith(`${issuer}/oauth/authorize`)) {
  fail(`the SDK was sent to ${provider.authorizationUrl.href}, not Clerk`);
}
if (!provider.client.client_id.startsWith("clerk_client_")) fail("the client did not register at Clerk");
const second = await auth(provider, { serverUrl, resourceMetadataUrl, scope, authorizationCode: provider.pendingCode });
if (second !== "AUTHORIZED") fail(`expected AUTHORIZED, got ${second}`);
const issued = provider.tokens();

// A 2025-era session through the SDK's own transport.
const client = new Client({ name: "sdk-test", version: "1" });
const transport = new StreamableHTTPClientTransport(serverUrl, { authProvider: provider });
await client.connect(transport);
const { tools } = await client.listTools();
const sum = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
const me = await client.callTool({ name: "whoami", arguments: {} });
// The app is called with an M2M token this server mints, never with the client's token.
const appData = await client.callTool({ name: "get_app_data", arguments: {} });
await transport.terminateSession();
await client.close();

// A 2026-07-28 request: no session, the same token.
const stateless = await fetch(serverUrl, {
  method: "POST",
  headers: {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    authorization: `Bearer ${issued.access_token}`,
    "mcp-protocol-version": "2026-07-28",
    "mcp-method": "tools/call",
    "mcp-name": "add",
  },
  body: JSON.stringify({
    jsonrpc: "2.0", id: 2, method: "tools/call",
    params: {
      name: "add", arguments: { a: 4, b: 5 },
      _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} },
    },
  }),
});
if (stateless.status !== 200) fail(`the 2026-07-28 request got ${stateless.status}: ${await stateless.text()}`);
const statelessReply = await stateless.json();

console.log(JSON.stringify({
  authorization_server: new URL(provider.authorizationUrl).origin,
  client_id: provider.client.client_id,
  scope: issued.scope,
  access_token_prefix: issued.access_token.slice(0, 4),
  tools: tools.map((t) => t.name),
  sum: sum.structuredContent?.sum,
  user_id: me.structuredContent?.user_id,
  app_user: appData.structuredContent?.data?.user ?? null,
  app_error: appData.isError ? appData.content?.[0]?.text : null,
  access_token: issued.access_token,
  stateless_sum: statelessReply.result?.structuredContent?.sum,
}));
