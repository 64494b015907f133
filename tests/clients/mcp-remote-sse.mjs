// mcp-remote (pinned in package-lock.json) as Claude Desktop runs it, with
// `--transport sse-only`, driven over stdio; its browser step is automated.
//
//   node mcp-remote-sse.mjs <server origin> <callback port> [local-user] [transport]
//
// `transport` is mcp-remote's `--transport` strategy, `sse-only` by default; with
// `http-first` (its default) it must find its own way from the 405 at POST /sse.
//
// mcp-remote connects to <origin>/sse, gets the 401, registers and prints the sign-in
// URL (no browser can open here: PATH holds none). This script follows that URL as a
// browser would, approving the consent page, and delivers the redirect to
// mcp-remote's callback listener. Then it speaks MCP on mcp-remote's stdin and stdout:
// initialize, tools/list, tools/call. Prints a JSON summary; exits non-zero on failure.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { browse } from "./browser.mjs";

const [origin, port, localUser = "remote-user", strategy = "sse-only"] = process.argv.slice(2);
if (!origin || !port) {
  console.error("usage: node mcp-remote-sse.mjs <server origin> <callback port> [local-user]");
  process.exit(2);
}
const proxy = fileURLToPath(new URL("./node_modules/mcp-remote/dist/proxy.js", import.meta.url));
const callback = `http://127.0.0.1:${port}/oauth/callback`;
const configDir = mkdtempSync(join(tmpdir(), "mcp-remote-"));
const emptyPath = mkdtempSync(join(tmpdir(), "no-browser-"));

const child = spawn(
  process.execPath,
  [proxy, `${origin}/sse`, port, "--transport", strategy, "--host", "127.0.0.1"],
  {
    env: { HOME: configDir, MCP_REMOTE_CONFIG_DIR: configDir, PATH: emptyPath },
    stdio: ["pipe", "pipe", "pipe"],
  },
);
let stderr = "";
const watchers = [];
child.stderr.on("data", (chunk) => {
  stderr += chunk;
  for (const w of [...watchers]) w();
});
/** Resolves with the match once stderr shows `pattern`. */
function stderrShows(pattern, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}:\n${stderr}`)), 30000);
    const check = () => {
      const match = stderr.match(pattern);
      if (match) {
        clearTimeout(timer);
        watchers.splice(watchers.indexOf(check), 1);
        resolve(match);
      }
    };
    watchers.push(check);
    check();
  });
}

let stdout = "";
const waiting = new Map();
child.stdout.on("data", (chunk) => {
  stdout += chunk;
  let newline;
  while ((newline = stdout.indexOf("\n")) >= 0) {
    const line = stdout.slice(0, newline).trim();
    stdout = stdout.slice(newline + 1);
    if (!line) continue;
    const message = JSON.parse(line);
    waiting.get(message.id)?.(message);
  }
});
let nextId = 1;
function request(method, params) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to ${method}:\n${stderr}`)), 30000);
    waiting.set(id, (message) => {
      clearTimeout(timer);
      resolve(message);
    });
    child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`);
  });
}

try {
  const [, url] = await stderrShows(/Please authorize this client by visiting:\s*\n(\S+)/, "the sign-in URL");
  const start = new URL(url);
  const landed = await browse(start, { redirectPrefix: callback, localUser });
  if (landed.searchParams.get("error")) throw new Error(`sign-in failed: ${landed}`);
  const delivered = await fetch(landed);
  if (!delivered.ok) throw new Error(`mcp-remote's callback answered ${delivered.status}`);
  const [, transport] = await stderrShows(/Proxy established successfully between local STDIO and remote (\w+)/, "the proxy");

  const init = await request("initialize", {
    protocolVersion: "2024-11-05",
    capabilities: {},
    clientInfo: { name: "claude-desktop-like", version: "1" },
  });
  child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`);
  const listed = await request("tools/list", {});
  const sum = await request("tools/call", { name: "add", arguments: { a: 20, b: 22 } });
  const me = await request("tools/call", { name: "whoami", arguments: {} });
  console.log(JSON.stringify({
    transport,
    requested_resource: start.searchParams.get("resource"),
    protocol_version: init.result?.protocolVersion,
    tools: listed.result?.tools?.map((t) => t.name),
    sum: sum.result?.structuredContent?.sum,
    user_id: me.result?.structuredContent?.user_id,
  }));
} catch (error) {
  console.error(`${error.stack}\n--- mcp-remote stderr ---\n${stderr}`);
  process.exitCode = 1;
} finally {
  child.kill();
  rmSync(configDir, { recursive: true, force: true });
  rmSync(emptyPath, { recursive: true, force: true });
}
