// The browser step of an OAuth sign-in, unattended: follows plain redirects carrying
// cookies, and approves the consent page (signing in locally when the page offers it),
// until the browser is sent to `redirectPrefix`. Returns that final URL; with `visit`,
// also requests it once `visit` resolves (so a client's own callback server, once it
// listens, receives the code).

export async function browse(start, { redirectPrefix, localUser = "sdk-user", visit = null }) {
  const cookies = new Map();
  const remember = (res) => {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const [name, value] = pair.split("=");
      if (value === "") cookies.delete(name);
      else cookies.set(name, value);
    }
  };
  const cookieHeader = () => [...cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  let url = String(start);
  let init = { method: "GET" };
  for (let hop = 0; hop < 10; hop++) {
    if (url.startsWith(redirectPrefix)) {
      if (visit) {
        await visit;
        await fetch(url);
      }
      return new URL(url);
    }
    const res = await fetch(url, { ...init, redirect: "manual", headers: { ...init.headers, cookie: cookieHeader() } });
    remember(res);
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get("location"), url).href;
      init = { method: "GET" };
      continue;
    }
    if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
    const html = await res.text();
    const ticket = html.match(/name="ticket" value="([^"]+)"/)?.[1];
    if (!ticket) throw new Error(`no consent form at ${url}`);
    const form = new URLSearchParams({ ticket: ticket.replaceAll("&amp;", "&"), decision: "approve" });
    if (html.includes('name="user"')) form.set("user", localUser);
    url = new URL("/authorize", url).href;
    init = { method: "POST", body: form.toString(), headers: { "content-type": "application/x-www-form-urlencoded" } };
  }
  throw new Error("too many redirects");
}
