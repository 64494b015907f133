// Opens each of the server's pages in real Chromium and reports what it showed: the
// status, the title, the visible text, the Content-Security-Policy, and any problem
// (console error, page error, CSP violation). Optionally saves a screenshot of one.
//
//   node chromium-pages.mjs '{"origin": "<server>", "paths": ["/", …], "screenshot": {"path": "/", "file": "x.png"}}'

import { launch, watchedPage } from "./chromium.mjs";

const { origin, paths = ["/"], screenshot } = JSON.parse(process.argv[2] ?? "{}");
if (!origin) {
  console.error("usage: node chromium-pages.mjs '{\"origin\": \"http://127.0.0.1:3000\", \"paths\": [\"/\"]}'");
  process.exit(2);
}

const browser = await launch();
const pages = [];
try {
  for (const path of paths) {
    const watched = await watchedPage(browser);
    const response = await watched.page.goto(new URL(path, origin).href);
    // Let late requests (the favicon) settle, so their failures would show.
    await watched.page.waitForLoadState("networkidle");
    if (screenshot?.path === path) await watched.page.screenshot({ path: screenshot.file, fullPage: true });
    pages.push({
      path,
      status: response.status(),
      title: await watched.page.title(),
      text: await watched.page.evaluate(() => document.body?.innerText ?? ""),
      csp: response.headers()["content-security-policy"] ?? null,
      favicon: watched.requests.filter((u) => u.endsWith("/favicon.ico")).length,
      problems: watched.problems,
    });
    await watched.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify({ pages }));
