/**
 * A map's `mappings`, one entry per generated line: its segments flattened, four numbers each (generated column,
 * source index, source line, source column; absolute, 0-based). A segment without a source has source index -1;
 * with `mappedOnly` such segments are left out.
 */
export function decodeMappings(mappings: string, options?: { mappedOnly?: boolean }): Int32Array[];

/** A URL-encoded name decoded, or left as it is when it is not valid encoding. */
export function safeDecode(text: string): string;

/** The map file of a bundled chunk: the one its sourceMappingURL comment names, else the chunk's name + ".map". */
export function sourceMapFileOf(file: string, code: string): string;
