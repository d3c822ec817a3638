"use client";

import { useEffect, useState, type ReactNode } from "react";
import { addPasskeyAction, passkeyRegistrationOptionsAction } from "./passkey-actions";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";

/** Its children only where the browser has WebAuthn, and only after hydration (so both renders agree). */
export function WebAuthnOnly({ children }: { children: ReactNode }) {
  const [supported, setSupported] = useState(false);
  useEffect(() => setSupported(typeof window.PublicKeyCredential === "function"), []);
  return supported ? children : null;
}

export function AddPasskeyButton({ label = "Add a passkey", variant = "secondary" }: { label?: string; variant?: "primary" | "secondary" }) {
  const [pending, setPending] = useState(false);
  const [message, setMessage] = useState<string>();

  async function add() {
    setPending(true);
    setMessage(undefined);
    try {
      const options = await passkeyRegistrationOptionsAction();
      if (!options.ok) return setMessage(options.message);
      // Loaded on demand: most visits to this page never add a passkey.
      const { startRegistration } = await import("@simplewebauthn/browser");
      let response;
      try {
        response = await startRegistration({ optionsJSON: options.options });
      } catch {
        return setMessage("No passkey was added: the request was cancelled or timed out. Try again when you are ready.");
      }
      const result = await addPasskeyAction(JSON.stringify(response));
      if (!result.ok) return setMessage(result.message ?? "That passkey could not be added. Try again.");
      // A fresh page: the list and the notice come from the server.
      window.location.assign("/account?passkey=added#passkeys");
    } finally {
      setPending(false);
    }
  }

  return (
    <div className="space-y-3">
      {message ? <Alert tone="error">{message}</Alert> : null}
      <Button type="button" variant={variant} onClick={add} disabled={pending} className="w-full">
        {pending ? "Waiting for your passkey…" : label}
      </Button>
    </div>
  );
}
