import type { ParseArgsOptionConfig, parseArgs } from "node:util";

/** parseArgs options; a string option may have `bare`: its value when given without one. */
export type CommandLineOptions = Record<string, ParseArgsOptionConfig & { bare?: string }>;

/**
 * The command line of every script: node:util parseArgs, strict, with `bare` values. With `exitCode`, an
 * error is printed and the process exits with it; otherwise it is thrown.
 */
export function parseCommandLine<const T extends CommandLineOptions>(
  options: T,
  settings?: { args?: string[]; allowPositionals?: boolean; exitCode?: number },
): ReturnType<typeof parseArgs<{ options: T; strict: true; allowPositionals: true }>>;

/** A script's opening comment, for --help (a path or an import.meta.url). */
export function headerComment(file: string): string;
