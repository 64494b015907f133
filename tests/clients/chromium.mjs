// The browser harness: real Chromium (Debian's `chromium`, headless), driven over the
// DevTools protocol with playwright-core (pinned by package-lock.json) pointed at the
// system browser. Every page it opens is watched: a console error, an uncaught page
// error or a Content Security Policy violation is recorded as a problem, and the
// callers fail on any.
//
// CHROMIUM names the browser binary (default /usr/bin/chromium).

import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

// As the machine's notes prescribe for a sandbox without a network: no sandbox (root),
// and none of the background traffic that a closed network refuses.
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

/**
 * A page whose problems are recorded, and whose navigations are seen through a CDP
 * session of its own (`Network.requestWillBeSent`), so that a redirect to a host or
 * scheme the browser cannot load (an https client, `cursor://`) is still observed.
 */
export async function watchedPage(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  const requests = [];
  const visited = [];
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const url = message.location().url;
    // Chromium logs the status of an error page's own document ("Failed to load
    // resource: … 400") as a console error; that status is the page's answer, which
    // the tests assert. Anything else the page loads must not fail.
    const ownStatus = message.text().startsWith("Failed to load resource: the server responded with a status of")
      && url === page.url();
    if (!ownStatus) problems.push({ kind: "console", text: message.text(), url });
  });
  page.on("pageerror", (error) => problems.push({ kind: "pageerror", text: String(error) }));
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) visited.push(frame.url());
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Audits.enable");
  cdp.on("Network.requestWillBeSent", (event) => requests.push(event.request.url));
  cdp.on("Audits.issueAdded", ({ issue }) => {
    if (issue.code === "ContentSecurityPolicyIssue") {
      const details = issue.details.contentSecurityPolicyIssueDetails;
      problems.push({ kind: "csp", text: `${details.violatedDirective} blocked ${details.blockedURL ?? "(inline)"}` });
    }
  });
  return {
    page,
    problems,
    requests,
    visited,
    /** Resolves with the first requested URL starting with `prefix`. */
    async requested(prefix, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const url = requests.find((u) => u.startsWith(prefix));
        if (url) return url;
        if (Date.now() > deadline) {
          throw new Error(`the browser never requested ${prefix}; it requested ${JSON.stringify(requests)}; problems ${JSON.stringify(problems)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async close() {
      await context.close();
    },
  };
}
