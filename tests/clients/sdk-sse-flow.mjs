// The official TypeScript SDK's SSEClientTransport (HTTP+SSE, 2024-11-05) with its OAuth
// provider, against a running server, unattended.
//
//   node sdk-sse-flow.mjs <server origin> [local-user]
//
// The transport opens GET /sse, gets the 401, and runs the SDK's OAuth flow from the
// challenge (discovery, registration, PKCE); the "browser" step follows redirects and
// approves the consent page. Then a second connection lists and calls tools, answers
// an elicitation a tool sends on the stream, and pins each revision in `initialize`.
// Prints a JSON summary; exits non-zero on any failure.

import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { browse } from "./browser.mjs";
import { MemoryProvider } from "./memory-provider.mjs";

const origin = process.argv[2];
const localUser = process.argv[3] ?? "sse-user";
if (!origin) {
  console.error("usage: node sdk-sse-flow.mjs <server origin> [local-user]");
  process.exit(2);
}
const serverUrl = new URL("/sse", origin);
const redirectUrl = "http://127.0.0.1:7777/oauth/callback";

function fail(message) {
  throw new Error(message);
}

/** The shared in-memory provider; its browser step signs in over plain HTTP. */
class SseProvider extends MemoryProvider {
  pendingCode = undefined;
  requestedResource = undefined;
  async redirectToAuthorization(url) {
    this.requestedResource = url.searchParams.get("resource");
    const landed = await browse(url, { redirectPrefix: redirectUrl, localUser });
    const error = landed.searchParams.get("error");
    if (error) fail(`authorization failed: ${error}`);
    this.pendingCode = landed.searchParams.get("code") ?? fail("no code in the redirect");
  }
}

const provider = new SseProvider({ clientName: "TypeScript SDK SSE test client", redirectUrl });

// The first connection meets the 401 and signs in; the SDK then reports it unauthorized
// until the code is exchanged.
const first = new SSEClientTransport(serverUrl, { authProvider: provider });
try {
  await new Client({ name: "sse-test", version: "1" }).connect(first);
  fail("connected without signing in");
} catch (error) {
  if (!(error instanceof UnauthorizedError)) throw error;
}
if (!provider.pendingCode) fail("the 401 did not start a sign-in");
await first.finishAuth(provider.pendingCode);
const issued = provider.tokens() ?? fail("no tokens after the exchange");

const client = new Client({ name: "sse-test", version: "1" }, { capabilities: { elicitation: {} } });
let elicited = undefined;
client.setRequestHandler(ElicitRequestSchema, async (request) => {
  elicited = request.params.message;
  return { action: "accept", content: { username: localUser, email: `${localUser}@example.com` } };
});
const transport = new SSEClientTransport(serverUrl, { authProvider: provider });
await client.connect(transport);
const negotiated = client.getServerVersion();
const { tools } = await client.listTools();
const sum = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
const me = await client.callTool({ name: "whoami", arguments: {} });
let elicitation = undefined;
if (tools.some((t) => t.name === "test_elicitation")) {
  const answered = await client.callTool({ name: "test_elicitation", arguments: { message: "Who are you?" } });
  elicitation = { asked: elicited, result: answered.content?.[0]?.text };
}
await client.close();

// Each revision, asked for in `initialize`: the transport's own and the 2025 ones.
class PinnedTransport extends SSEClientTransport {
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
for (const version of ["2024-11-05", "2025-11-25", "2025-06-18", "2025-03-26"]) {
  const pinned = new Client({ name: "sse-test", version: "1" });
  const pinnedTransport = new PinnedTransport(serverUrl, version, { authProvider: provider });
  let negotiated = undefined;
  const setProtocolVersion = pinnedTransport.setProtocolVersion?.bind(pinnedTransport);
  pinnedTransport.setProtocolVersion = (v) => {
    negotiated = v;
    setProtocolVersion?.(v);
  };
  await pinned.connect(pinnedTransport);
  const added = await pinned.callTool({ name: "add", arguments: { a: 1, b: 1 } });
  versions[version] = { negotiated, sum: added.structuredContent?.sum };
  await pinned.close();
}

console.log(JSON.stringify({
  requested_resource: provider.requestedResource,
  token_type: issued.token_type,
  scope: issued.scope,
  server: negotiated?.name,
  tools: tools.map((t) => t.name),
  sum: sum.structuredContent?.sum,
  user_id: me.structuredContent?.user_id,
  elicitation,
  versions,
}));
