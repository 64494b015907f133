// The official TypeScript SDK's OAuth client against a running server, unattended.
//
//   node sdk-oauth-flow.mjs <server origin> [local-user]
//
// It does what the SDK's Streamable HTTP transport does on a 401: reads the challenge,
// discovers (RFC 9728, RFC 8414), registers (RFC 7591), authorizes with PKCE, and
// exchanges the code; the "browser" step follows plain redirects, carrying cookies and
// approving the consent page (signing in locally when the page offers it). Then the SDK's
// client connects with a stale token: its transport gets a 401, refreshes, and goes on
// to list and call tools. Prints a JSON summary; exits non-zero on any failure.

import { auth, extractWWWAuthenticateParams } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { browse } from "./browser.mjs";
import { MemoryProvider } from "./memory-provider.mjs";

const origin = process.argv[2];
const localUser = process.argv[3] ?? "sdk-user";
if (!origin) {
  console.error("usage: node sdk-oauth-flow.mjs <server origin> [local-user]");
  process.exit(2);
}
const serverUrl = new URL("/mcp", origin);
const redirectUrl = "http://127.0.0.1:7777/oauth/callback";

function fail(message) {
  throw new Error(message);
}

/** The shared in-memory provider; its browser step signs in over plain HTTP. */
class SdkProvider extends MemoryProvider {
  pendingCode = undefined;
  async redirectToAuthorization(url) {
    this.pendingCode = await signIn(url);
  }
}

/** The browser step; returns the code sent to the redirect URI. */
async function signIn(start) {
  const landed = await browse(start, { redirectPrefix: redirectUrl, localUser });
  const error = landed.searchParams.get("error");
  if (error) fail(`authorization failed: ${error}`);
  return landed.searchParams.get("code") ?? fail("no code in the redirect");
}

async function postMcp(token) {
  const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
  if (token) headers.authorization = `Bearer ${token}`;
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "sdk-test", version: "1" } } });
  return fetch(serverUrl, { method: "POST", headers, body });
}

const unauthenticated = await postMcp();
if (unauthenticated.status !== 401) fail(`expected 401 without a token, got ${unauthenticated.status}`);
const { resourceMetadataUrl, scope } = extractWWWAuthenticateParams(unauthenticated);
if (!resourceMetadataUrl) fail("the 401 named no resource_metadata");

const provider = new SdkProvider({ clientName: "TypeScript SDK test client", redirectUrl });
const first = await auth(provider, { serverUrl, resourceMetadataUrl, scope });
if (first !== "REDIRECT") fail(`expected REDIRECT, got ${first}`);
const second = await auth(provider, { serverUrl, resourceMetadataUrl, scope, authorizationCode: provider.pendingCode });
if (second !== "AUTHORIZED") fail(`expected AUTHORIZED, got ${second}`);
const issued = provider.tokens();
const accepted = await postMcp(issued.access_token);
if (accepted.status !== 200) fail(`a freshly issued token got ${accepted.status}`);

// A token the server no longer accepts (expired, say): the SDK's own transport gets a
// 401, refreshes with the refresh token it holds, and retries, unattended.
const stale = `${issued.access_token.slice(0, -4)}AAAA`;
if ((await postMcp(stale)).status !== 401) fail("a stale token was accepted");
provider.saveTokens({ ...issued, access_token: stale });
const client = new Client({ name: "sdk-test", version: "1" });
await client.connect(new StreamableHTTPClientTransport(serverUrl, { authProvider: provider }));
const refreshed = provider.tokens();
if (refreshed.access_token === stale) fail("the transport did not refresh after the 401");
if (refreshed.refresh_token === issued.refresh_token) fail("the refresh token did not rotate");
const { tools } = await client.listTools();
const sum = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
const me = await client.callTool({ name: "whoami", arguments: {} });
await client.close();

// The same client at each revision the server speaks: the transport asks for that
// revision in `initialize`, and the SDK then carries it in MCP-Protocol-Version.
class PinnedTransport extends StreamableHTTPClientTransport {
  constructor(url, version, options) {
    super(url, options);
    this.version = version;
  }
  send(message, options) {
    if (message.method === "initialize") {
      message = { ...message, params: { ...message.params, protocolVersion: this.version } };
    }
    return super.send(message, options);
  }
}
const versions = {};
for (const version of ["2025-11-25", "2025-06-18", "2025-03-26"]) {
  const pinned = new Client({ name: "sdk-test", version: "1" });
  const transport = new PinnedTransport(serverUrl, version, { authProvider: provider });
  await pinned.connect(transport);
  const listed = await pinned.listTools();
  const added = await pinned.callTool({ name: "add", arguments: { a: 1, b: 1 } });
  // DELETE ends the session; a request that still names it must be refused (404).
  const session = transport.sessionId;
  await transport.terminateSession();
  let ended = false;
  try {
    transport._sessionId = session;
    await pinned.listTools();
  } catch {
    ended = true;
  }
  versions[version] = {
    negotiated: transport.protocolVersion,
    tools: listed.tools.length,
    sum: added.structuredContent?.sum,
    ended,
  };
  await pinned.close();
}

console.log(JSON.stringify({
  client_id: provider.client.client_id,
  scope: refreshed.scope,
  token_type: refreshed.token_type,
  rotated: true,
  tools: tools.map((t) => t.name),
  sum: sum.structuredContent?.sum,
  user_id: me.structuredContent?.user_id,
  versions,
}));
