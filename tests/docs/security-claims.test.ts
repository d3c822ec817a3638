import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

/**
 * SECURITY.md may claim only what tests prove: every test it cites by file and title must exist in that
 * file. A title ending in "…" is cited by its beginning.
 */

const text = readFileSync("SECURITY.md", "utf8");

/** Each table cell or sentence cites `file` › group › "title", "title"; … : collect [file, title] pairs. */
function citations(markdown: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const cite = /`((?:tests|e2e)\/[\w./-]+\.(?:test|spec)\.ts)`([^`|]*)/g;
  for (const match of markdown.matchAll(cite)) {
    const [, file, rest] = match as unknown as [string, string, string];
    for (const title of rest.matchAll(/"([^"]+)"/g)) pairs.push([file, title[1]!]);
  }
  return pairs;
}

/** What a test title looks like in source: quotes escaped or not, template literals allowed. */
function appears(source: string, title: string): boolean {
  const wanted = title.endsWith("…") ? title.slice(0, -1) : title;
  const flat = source.replace(/\\(["'`])/g, "$1");
  return flat.includes(wanted);
}

describe("SECURITY.md cites only tests that exist", () => {
  const pairs = citations(text);

  it("cites tests at all (the parser found them)", () => {
    expect(pairs.length).toBeGreaterThan(50);
  });

  it("every cited file exists and holds every title cited from it", () => {
    const missing = pairs.filter(([file, title]) => !existsSync(file) || !appears(readFileSync(file, "utf8"), title));
    expect(missing.map(([file, title]) => `${file} › "${title}"`)).toEqual([]);
  });
});
