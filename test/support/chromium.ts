// Debian Chromium via playwright-core (docs/testing.md §Browser): one headless browser per suite, one
// persistent profile (so kept-alive loopback connections are shared between flows), and
// helpers that sign in on oidc-provider's dev pages and enter device codes.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"];

export interface Chromium {
  /** Opens `url` (an authorization URL), signs in and consents until the page lands on a URL starting with `stopAt`; returns that page's text. */
  signIn(url: string, stopAt: string, user?: string): Promise<{ url: string; text: string }>;
  /** Opens the device verification page, enters `userCode`, signs in and confirms; returns the final page text. */
  enterDeviceCode(verificationUri: string, userCode: string, user?: string): Promise<string>;
  /** Opens `url` and waits until the page has loaded and set `data-done="1"` on its body (after its own requests); returns the page's text. */
  visit(url: string): Promise<string>;
  close(): Promise<void>;
}

/** Waits for the next main-frame navigation (a form POST may land on the same URL), then for its DOM. */
async function nextPage(page: Page, _from: string): Promise<void> {
  await page.waitForEvent("framenavigated", { predicate: (f) => f === page.mainFrame(), timeout: 15_000 });
  await page.waitForLoadState("domcontentloaded");
}

/** Submits oidc-provider's login and consent forms until the URL starts with `stopAt` (or no form is left). */
async function completeInteractions(page: Page, stopAt: string | null, user: string): Promise<void> {
  for (let step = 0; step < 10; step++) {
    const url = page.url();
    if (stopAt && url.startsWith(stopAt)) return;
    if (await page.locator('input[name="login"]').count()) {
      await page.fill('input[name="login"]', user);
      await page.fill('input[name="password"]', "pw");
      await Promise.all([nextPage(page, url), page.click('button[type="submit"]')]);
      continue;
    }
    const confirm = page.locator('button[type="submit"], button[autofocus]');
    if (await confirm.count()) {
      await Promise.all([nextPage(page, url), confirm.first().click()]);
      continue;
    }
    return;
  }
  throw new Error("chromium: too many interaction steps");
}

/** Launches headless Chromium with a fresh profile. */
export async function launchChromium(): Promise<Chromium> {
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "mcb-chromium-"));
  const context: BrowserContext = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
  return {
    async signIn(url, stopAt, user = "alice") {
      const page = await context.newPage();
      try {
        // Never networkidle: the provider's pages @import web fonts that cannot load here.
        await page.goto(url, { waitUntil: "domcontentloaded" });
        await completeInteractions(page, stopAt, user);
        if (!page.url().startsWith(stopAt)) await page.waitForURL((u) => u.href.startsWith(stopAt), { waitUntil: "domcontentloaded", timeout: 15_000 });
        return { url: page.url(), text: await page.innerText("body") };
      } finally {
        await page.close();
      }
    },
    async enterDeviceCode(verificationUri, userCode, user = "alice") {
      const page = await context.newPage();
      try {
        await page.goto(verificationUri, { waitUntil: "domcontentloaded" });
        await page.fill('input[name="user_code"]', userCode);
        await Promise.all([nextPage(page, page.url()), page.click('button[type="submit"]')]);
        await completeInteractions(page, null, user);
        return await page.innerText("body");
      } finally {
        await page.close();
      }
    },
    async visit(url) {
      const page = await context.newPage();
      try {
        await page.goto(url, { waitUntil: "load" });
        // The page may start requests from script after load; it marks itself done when they
        // ended. A page that never does fails the test rather than passing it unexercised.
        await page.waitForFunction('document.body?.dataset.done === "1"', undefined, { timeout: 15_000 });
        return await page.innerText("body");
      } finally {
        await page.close();
      }
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
