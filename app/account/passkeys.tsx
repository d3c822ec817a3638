import { removePasskeyAction, renamePasskeyAction } from "./passkey-actions";
import { Alert } from "@/components/ui/alert";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { SubmitButton } from "@/components/ui/submit-button";
import type { PasskeyItem, PasskeyNotice } from "@/lib/web/passkey-page";
import { AddPasskeyButton, WebAuthnOnly } from "./add-passkey";

/**
 * The account's passkeys, rendered on the server. The list, rename and remove are plain forms that work without
 * JavaScript; adding one needs the browser's WebAuthn, so that button (./add-passkey.tsx) appears only after
 * hydration, where the browser has it.
 */

/** Offered once, on the first visit after the address was verified, where the browser can make passkeys. */
export function PasskeyOffer() {
  return (
    <WebAuthnOnly>
      <section aria-labelledby="passkey-offer-heading" className="border-info/30 bg-info-surface text-info-foreground mb-6 space-y-3 rounded-lg border p-4">
        <h2 id="passkey-offer-heading" className="text-base font-semibold">
          Sign in faster with a passkey
        </h2>
        <p className="text-sm">
          A passkey lets this device sign you in with its screen lock (fingerprint, face or PIN) instead of your password. It cannot be phished or reused on
          another site.
        </p>
        <AddPasskeyButton label="Add a passkey now" variant="primary" />
      </section>
    </WebAuthnOnly>
  );
}

export function PasskeysSection({ passkeys, notice }: { passkeys: PasskeyItem[]; notice?: PasskeyNotice }) {
  return (
    <section id="passkeys" aria-labelledby="passkeys-heading" className="border-border mt-8 space-y-4 border-t pt-6">
      <h2 id="passkeys-heading" className="text-lg font-semibold">
        Passkeys
      </h2>
      {notice ? <Alert tone={notice.tone}>{notice.text}</Alert> : null}
      {passkeys.length === 0 ? (
        <p className="text-muted-foreground text-sm">No passkeys yet. A passkey signs you in with this device&apos;s screen lock, without a password.</p>
      ) : (
        <ul className="space-y-4" aria-label="Your passkeys">
          {passkeys.map((passkey) => (
            <li key={passkey.id} className="border-border space-y-3 rounded-lg border p-4" data-testid="passkey">
              <p className="text-sm">
                <span className="font-medium">{passkey.name}</span>
                <span className="text-muted-foreground block">
                  Added {passkey.added}
                  {passkey.lastUsed ? `, last used ${passkey.lastUsed}` : ", not used yet"}
                  {passkey.synced ? " · synced between your devices" : ""}
                </span>
              </p>
              <form action={renamePasskeyAction} className="flex flex-wrap items-end gap-2">
                <input type="hidden" name="id" value={passkey.id} />
                <div className="min-w-0 flex-1 space-y-1">
                  <Label htmlFor={`passkey-name-${passkey.id}`}>Name</Label>
                  <Input id={`passkey-name-${passkey.id}`} name="name" defaultValue={passkey.name} maxLength={64} required autoComplete="off" />
                </div>
                <SubmitButton variant="secondary" pendingLabel="Saving…">
                  Rename
                </SubmitButton>
              </form>
              <form action={removePasskeyAction}>
                <input type="hidden" name="id" value={passkey.id} />
                <SubmitButton variant="secondary" pendingLabel="Removing…" className="w-full">
                  <span>
                    Remove <span className="sr-only">the passkey {passkey.name}</span>
                  </span>
                </SubmitButton>
              </form>
            </li>
          ))}
        </ul>
      )}
      <WebAuthnOnly>
        <AddPasskeyButton />
      </WebAuthnOnly>
    </section>
  );
}
