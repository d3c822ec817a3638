import "server-only";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { BuiltPage } from "./page-response";
import { inlineScriptHashes } from "./static-csp.mjs";

/**
 * The auth pages that need nothing of the request: each is also built once, at `next build`, under
 * PRERENDERED_PREFIX (app/prerendered/*), and proxy.ts answers a plain GET of the public path with that HTML.
 * A query (?email=, notices), a session cookie or a server config other than the build's gets the page rendered
 * per request, as before.
 */
export const STATIC_PAGES = ["/register", "/login", "/forgot-password"] as const;
export const PRERENDERED_PREFIX = "/prerendered";

/** The settings of the server's config that a prerendered page may show. */
export interface PageSettings {
  passwordMinLength: number;
  signInByCode: boolean;
}
export type PageSetting = keyof PageSettings;

/** Records the values of the settings a page shows, as "name=value;…". */
export function prerenderSettings(config: PageSettings, uses: readonly PageSetting[]): string {
  return uses.map((name) => `${name}=${String(config[name])}`).join(";");
}

/** Whether the server runs with the values a page was built with: one built with others is not served. */
export function settingsMatch(recorded: string, config: PageSettings): boolean {
  const uses = recorded ? (recorded.split(";").map((pair) => pair.split("=")[0]) as PageSetting[]) : [];
  return uses.every((name) => name in config) && prerenderSettings(config, uses) === recorded;
}

export const SETTINGS_META = "prerendered-with";

export interface PrerenderedPage extends BuiltPage {
  /** prerenderSettings() of the config the page was built with, for the settings it shows. */
  settings: string;
}

const pages = new Map<string, PrerenderedPage | null>();

/**
 * The build's HTML of a static page, read and hashed once per process. Null where the build has none (`next dev`, a page
 * that could not be prerendered): the page is then rendered per request.
 */
export function prerenderedPage(path: string): PrerenderedPage | null {
  let page = pages.get(path);
  if (page === undefined) {
    page = readPrerendered(path);
    pages.set(path, page);
  }
  return page;
}

function readPrerendered(path: string): PrerenderedPage | null {
  let html: string;
  try {
    html = readFileSync(join(process.cwd(), ".next/server/app", `${PRERENDERED_PREFIX}${path}.html`), "utf8");
  } catch {
    return null;
  }
  const settings = new RegExp(`<meta name="${SETTINGS_META}" content="([^"]*)"`).exec(html)?.[1];
  if (settings === undefined) return null;
  const etag = `"${createHash("sha256").update(html).digest("base64url").slice(0, 27)}"`;
  return { html, scriptHashes: inlineScriptHashes(html), etag, settings };
}
