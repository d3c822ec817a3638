/**
 * Asking for a secret in a terminal without echoing it (nothing typed appears on screen or in the shell's
 * history). Raw mode: the characters are read one by one; Backspace and Ctrl-U edit, Enter ends, Ctrl-C cancels.
 */

export interface PromptStreams {
  input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  output: NodeJS.WritableStream;
}

export class PromptCancelled extends Error {
  constructor() {
    super("Cancelled.");
    this.name = "PromptCancelled";
  }
}

export function askHidden(question: string, { input, output }: PromptStreams): Promise<string> {
  if (!input.isTTY || typeof input.setRawMode !== "function") {
    return Promise.reject(new Error("A password can only be typed in an interactive terminal (stdin is not a TTY)."));
  }
  output.write(question);
  input.setRawMode(true);
  input.resume();
  input.setEncoding("utf8");
  return new Promise((resolve, reject) => {
    let chars: string[] = [];
    let inEscape = false;
    const finish = () => {
      input.off("data", onData);
      input.setRawMode?.(false);
      input.pause();
      output.write("\n");
    };
    function onData(chunk: string | Buffer) {
      for (const ch of String(chunk)) {
        if (inEscape) {
          // An arrow or function key: ESC [ ... final letter or ~. Not part of a password.
          if (/[A-Za-z~]/.test(ch)) inEscape = false;
          continue;
        }
        if (ch === "\r" || ch === "\n" || ch === "\u0004") {
          finish();
          resolve(chars.join(""));
          return;
        }
        if (ch === "\u0003") {
          finish();
          reject(new PromptCancelled());
          return;
        }
        if (ch === "\u007f" || ch === "\b") chars = chars.slice(0, -1);
        else if (ch === "\u0015") chars = [];
        else if (ch === "\u001b") inEscape = true;
        else if (ch >= " ") chars.push(ch);
      }
    }
    input.on("data", onData);
  });
}

/**
 * Asks for a new password twice until `problem` finds nothing (at most `attempts` times), printing each problem.
 */
export async function askNewPassword(
  streams: PromptStreams,
  problem: (password: string, confirmation: string) => string | undefined,
  attempts = 3,
): Promise<{ password: string; confirmation: string }> {
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const password = await askHidden("Password: ", streams);
    const confirmation = await askHidden("Password (again): ", streams);
    const found = problem(password, confirmation);
    if (!found) return { password, confirmation };
    streams.output.write(`${found}\n`);
  }
  throw new Error(`No acceptable password after ${attempts} tries.`);
}
