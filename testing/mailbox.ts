// Reading mail caught by the SMTP sink. Pure and fetch-only, so Playwright workers
// (separate processes) can use it against the sink started in globalSetup.

export interface ReceivedMail {
  /** Envelope recipients (RCPT TO), as sent. */
  to: string[];
  from: string;
  subject: string;
  text: string;
  html: string;
  /** Date.now() when the message was fully received. */
  receivedAt: number;
  /** Raw header values by lower-cased name; repeated headers joined with "\n". */
  headers: Record<string, string>;
}

export interface WaitForMailOptions {
  /** Default 10 000 ms. */
  timeoutMs?: number;
  /** Only mail with receivedAt > after (take Date.now() before the action that sends it). */
  after?: number;
  predicate?: (mail: ReceivedMail) => boolean;
}

export function isFor(mail: ReceivedMail, to: string): boolean {
  const wanted = to.toLowerCase();
  return mail.to.some((address) => address.toLowerCase() === wanted);
}

/** Polls `list` until a mail for `to` matches; the oldest match wins. */
export async function pollForMail(
  list: () => ReceivedMail[] | Promise<ReceivedMail[]>,
  to: string,
  { timeoutMs = 10_000, after, predicate }: WaitForMailOptions = {},
): Promise<ReceivedMail> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const forAddress = (await list()).filter((mail) => isFor(mail, to));
    const found = forAddress.find((mail) => (after === undefined || mail.receivedAt > after) && (!predicate || predicate(mail)));
    if (found) return found;
    if (Date.now() > deadline) {
      const seen = forAddress.map((m) => `  ${new Date(m.receivedAt).toISOString()} "${m.subject}"`).join("\n");
      throw new Error(
        `No matching mail to ${to} within ${timeoutMs} ms` +
          (after === undefined ? "" : ` (after ${new Date(after).toISOString()})`) +
          (seen ? `; mail received for that address:\n${seen}` : "; none received for that address."),
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The first standalone 6-digit number in the plain-text part (or, lacking one, the HTML's text). */
export function extractCode(mail: { text?: string; html?: string }): string {
  const text = mail.text || (mail.html ?? "").replace(/<[^>]*>/g, " ");
  const match = /\b\d{6}\b/.exec(text);
  if (!match) throw new Error(`No 6-digit code in mail: ${JSON.stringify(text.slice(0, 300))}`);
  return match[0];
}

function mailboxUrl(): string {
  const url = process.env.E2E_MAILBOX_URL;
  if (!url) throw new Error("E2E_MAILBOX_URL is not set: start the SMTP sink (e2e/global-setup.ts does) first.");
  return url;
}

/** Mail the sink received for `to` (all mail when omitted). */
export async function listMail(to?: string): Promise<ReceivedMail[]> {
  const query = to === undefined ? "" : `?to=${encodeURIComponent(to)}`;
  const res = await fetch(`${mailboxUrl()}/messages${query}`);
  if (!res.ok) throw new Error(`Mailbox answered ${res.status} ${await res.text()}`);
  return (await res.json()) as ReceivedMail[];
}

/** Forget mail for `to` (all mail when omitted). Prefer `after` in parallel tests. */
export async function clearMail(to?: string): Promise<void> {
  const query = to === undefined ? "" : `?to=${encodeURIComponent(to)}`;
  const res = await fetch(`${mailboxUrl()}/messages${query}`, { method: "DELETE" });
  if (!res.ok) throw new Error(`Mailbox answered ${res.status} ${await res.text()}`);
}

export function waitForMail(to: string, opts?: WaitForMailOptions): Promise<ReceivedMail> {
  return pollForMail(() => listMail(to), to, opts);
}

export async function waitForCode(to: string, opts?: WaitForMailOptions): Promise<string> {
  return extractCode(await waitForMail(to, opts));
}
