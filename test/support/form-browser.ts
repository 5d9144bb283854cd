// A tiny scripted "browser" for unit tests: follows redirects with a cookie jar and submits
// oidc-provider's dev login / consent / device forms, until it reaches a URL under `stopAt`
// (our callback), which it then requests like a browser would. Chromium does the same in e2e.
// Only ever talks to 127.0.0.1.

export interface FormBrowserResult {
  /** The callback URL the provider redirected to. */
  callbackUrl: string;
  /** Our callback server's answer. */
  status: number;
  page: string;
}

function assertLoopback(url: URL): void {
  if (url.hostname !== "127.0.0.1" && url.hostname !== "localhost" && url.hostname !== "[::1]") throw new Error(`form-browser refuses to contact ${url.host}`);
}

/** Collects `name=value` pairs from every Set-Cookie header, keyed by host. */
class CookieJar {
  readonly #jar = new Map<string, Map<string, string>>();
  store(url: URL, res: Response): void {
    const jar = this.#jar.get(url.host) ?? new Map<string, string>();
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const i = pair!.indexOf("=");
      jar.set(pair!.slice(0, i).trim(), pair!.slice(i + 1).trim());
    }
    this.#jar.set(url.host, jar);
  }
  header(url: URL): string {
    return [...(this.#jar.get(url.host) ?? [])].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

function decodeEntities(s: string): string {
  return s.replace(/&amp;/g, "&").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">");
}

/** The first form on the page: its action and its fields with values. */
function parseForm(html: string, base: URL, fill: Record<string, string>): { action: URL; method: string; body: URLSearchParams } | null {
  const form = /<form([^>]*)action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return null;
  const method = /method="get"/i.test(form[0]!.slice(0, form[0]!.indexOf(">"))) ? "GET" : "POST";
  const body = new URLSearchParams();
  for (const m of form[3]!.matchAll(/<input([^>]*)>/gi)) {
    const name = /name="([^"]*)"/.exec(m[1]!)?.[1];
    if (!name) continue;
    const value = /value="([^"]*)"/.exec(m[1]!)?.[1];
    body.set(name, fill[name] ?? decodeEntities(value ?? ""));
  }
  for (const [k, v] of Object.entries(fill)) if (!body.has(k) && form[3]!.includes(`name="${k}"`)) body.set(k, v);
  return { action: new URL(decodeEntities(form[2]!), base), method, body };
}

/**
 * Drives a login from `start` (an authorization or verification URL) to the callback under
 * `stopAt`. `fill` supplies form fields (login, password, user_code).
 */
export async function formBrowser(start: string, stopAt: string | null, fill: Record<string, string> = { login: "alice", password: "pw" }, opts: { fetchCallback?: boolean } = {}): Promise<FormBrowserResult> {
  const jar = new CookieJar();
  let url = new URL(start);
  let method = "GET";
  let body: URLSearchParams | undefined;
  for (let hops = 0; hops < 30; hops++) {
    assertLoopback(url);
    if (stopAt && url.href.startsWith(stopAt)) {
      // A remote user's browser cannot reach the callback: it only shows the address.
      if (opts.fetchCallback === false) return { callbackUrl: url.href, status: 0, page: "" };
      const res = await fetch(url, { redirect: "manual" });
      return { callbackUrl: url.href, status: res.status, page: await res.text() };
    }
    const res = await fetch(url, { method, body, redirect: "manual", headers: { cookie: jar.header(url), ...(body ? { "content-type": "application/x-www-form-urlencoded" } : {}) } });
    jar.store(url, res);
    method = "GET";
    body = undefined;
    const loc = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && loc) {
      url = new URL(loc, url);
      await res.arrayBuffer();
      continue;
    }
    const html = await res.text();
    const form = parseForm(html, url, fill);
    if (!form) return { callbackUrl: "", status: res.status, page: html };
    url = form.action;
    if (form.method === "GET") {
      url.search = form.body.toString();
      continue;
    }
    method = "POST";
    body = form.body;
  }
  throw new Error("form-browser: too many hops");
}
