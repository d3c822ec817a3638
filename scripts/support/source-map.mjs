// Plain JavaScript (typed by source-map.d.mts) so that scripts/size.mjs, run by plain node, and the bench's profile
// summary share it. Source map v3 without a dependency: a small VLQ decoder.
import { dirname, resolve } from "node:path";

const BASE64 = new Map([..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"].map((c, i) => [c, i]));

/**
 * A map's `mappings`, one entry per generated line: its segments flattened, four numbers each, in order:
 * generated column, source index, source line, source column (all absolute, 0-based). A segment that names no
 * source has source index -1 (and line and column 0); with `mappedOnly` such segments are left out.
 */
export function decodeMappings(mappings, { mappedOnly = false } = {}) {
  const lines = [];
  let source = 0;
  let sourceLine = 0;
  let sourceColumn = 0;
  for (const lineText of mappings.split(";")) {
    const out = [];
    let column = 0;
    for (const segment of lineText.split(",")) {
      if (!segment) continue;
      const values = [];
      let value = 0;
      let shift = 0;
      for (const ch of segment) {
        const digit = BASE64.get(ch);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      column += values[0];
      // The source fields are deltas over the segments that have them only.
      if (values.length >= 4) {
        source += values[1];
        sourceLine += values[2];
        sourceColumn += values[3];
        out.push(column, source, sourceLine, sourceColumn);
      } else if (!mappedOnly) out.push(column, -1, 0, 0);
    }
    lines.push(Int32Array.from(out));
  }
  return lines;
}

/** A URL-encoded name decoded, or left as it is when it is not valid encoding. */
export function safeDecode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The map file of a bundled chunk: the one its sourceMappingURL comment names (content-hashed names differ from
 * the chunk's), else the chunk's name + ".map". `code` is the chunk's text (its end is enough).
 */
export function sourceMapFileOf(file, code) {
  const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(code)?.[1];
  return url && !url.startsWith("data:") ? resolve(dirname(file), safeDecode(url)) : `${file}.map`;
}
