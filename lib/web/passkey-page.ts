import "server-only";
import { getPasskeys } from "../platform/runtime";
import { entryFor } from "./search-params";

export interface PasskeyItem {
  id: string;
  name: string;
  /** Formatted on the server, so both renderings of the page show the same text. */
  added: string;
  lastUsed: string | null;
  synced: boolean;
}

export type PasskeyNotice = { tone: "success" | "error"; text: string };

/** What /account shows about passkeys: the list, and whether to offer one (once, after verification, if none yet). */
export async function passkeyItems(userId: string): Promise<{ items: PasskeyItem[]; offer: boolean }> {
  const service = await getPasskeys();
  const list = await service.list(userId);
  const offer = await service.takeOffer(userId);
  return {
    offer: offer && list.length === 0,
    items: list.map((p) => ({ id: p.id, name: p.name, added: day(p.createdAt), lastUsed: p.lastUsedAt ? day(p.lastUsedAt) : null, synced: p.backedUp })),
  };
}

const NOTICES: Record<string, PasskeyNotice> = {
  added: { tone: "success", text: "Your passkey was added. You can sign in with it from the login page." },
  renamed: { tone: "success", text: "The passkey was renamed." },
  removed: { tone: "success", text: "The passkey was removed. It can no longer sign in to your account." },
  last: { tone: "error", text: "This is your only way to sign in: choose a password or add another passkey before removing it." },
  gone: { tone: "error", text: "That passkey is no longer on your account." },
  "bad-name": { tone: "error", text: "Give the passkey a name of 1 to 64 characters, without control characters." },
};

export function passkeyNotice(param: unknown): PasskeyNotice | undefined {
  return entryFor(NOTICES, param);
}

function day(date: Date): string {
  return `${date.toISOString().replace("T", " ").slice(0, 16)} UTC`;
}
