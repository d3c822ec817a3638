// Plain JavaScript (typed by args.d.mts) so that the .mjs scripts, run by plain node, and the .ts scripts share it.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/**
 * The command line of every script: node:util parseArgs, strict (an unknown option is an error, and so is a plain
 * argument unless `allowPositionals`), `--name=value` or `--name value` for a string option. One addition: a string
 * option with `bare` also stands alone and then takes that value (`--wait-quiet` as `--wait-quiet=true`).
 * With `exitCode`, an error is printed and the process exits with it; otherwise it is thrown.
 */
export function parseCommandLine(options, { args = process.argv.slice(2), allowPositionals = false, exitCode } = {}) {
  const config = {};
  const bare = new Map();
  for (const [name, { bare: value, ...option }] of Object.entries(options)) {
    config[name] = option;
    if (value !== undefined) bare.set(`--${name}`, `--${name}=${value}`);
  }
  try {
    return parseArgs({ options: config, args: args.map((arg) => bare.get(arg) ?? arg), strict: true, allowPositionals });
  } catch (error) {
    if (exitCode === undefined) throw error;
    console.error(error.message);
    process.exit(exitCode);
  }
}

/**
 * A script's opening comment, for --help: up to the end of its leading block comment (as written, from the
 * first line), or its leading `//` lines.
 */
export function headerComment(file) {
  const text = readFileSync(file.startsWith("file:") ? fileURLToPath(file) : file, "utf8");
  const body = text.replace(/^#!.*\n/, "");
  if (body.startsWith("/*")) return text.split("*/")[0];
  const lines = body.split("\n");
  const end = lines.findIndex((line) => !line.startsWith("//"));
  return lines
    .slice(0, end < 0 ? lines.length : end)
    .map((line) => line.replace(/^\/\/ ?/, ""))
    .join("\n");
}
