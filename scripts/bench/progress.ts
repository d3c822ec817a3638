/** One progress line, rewritten in place on a terminal (every 5 s at most otherwise), and the final line of each step. */

const tty = process.stdout.isTTY;
let lastPlain = 0;
export function progress(text: string) {
  if (tty) process.stdout.write(`\r\x1b[2K${text}`);
  else if (Date.now() - lastPlain > 5_000) {
    lastPlain = Date.now();
    console.log(text);
  }
}
export function progressDone(text: string) {
  if (tty) process.stdout.write(`\r\x1b[2K`);
  console.log(text);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
