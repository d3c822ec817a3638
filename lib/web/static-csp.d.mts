/** Each inline <script> body of a page's HTML (those without a src), as the browser will hash it. */
export function inlineScripts(html: string): string[];

/** CSP hash sources ('sha256-…') for every inline script of the page, without repeats, in page order. */
export function inlineScriptHashes(html: string): string[];
