"use client";

import type { AuthenticationResponseJSON } from "@simplewebauthn/browser";
import { useEffect, useState } from "react";
import { passkeySignInAction, passkeySignInOptionsAction } from "@/app/(auth)/passkey-actions";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";

/**
 * Sign-in with a passkey, without typing the address: a button, and the browser's autofill on the email field
 * (`autocomplete="username webauthn"`, conditional mediation). Rendered only after hydration, where the browser
 * has WebAuthn; without JavaScript the page is the password form alone.
 */
export function PasskeySignIn() {
  const [supported, setSupported] = useState(false);
  const [pending, setPending] = useState(false);
  const [message, setMessage] = useState<string>();

  async function finish(response: AuthenticationResponseJSON) {
    setPending(true);
    const result = await passkeySignInAction(JSON.stringify(response));
    if (result.ok) return window.location.assign("/account");
    setPending(false);
    setMessage(result.message);
  }

  useEffect(() => {
    if (typeof window.PublicKeyCredential !== "function") return;
    setSupported(true);
    let active = true;
    // Loaded after the page (not part of its first load): the password form never waits for it.
    const webauthn = import("@simplewebauthn/browser");
    (async () => {
      const { browserSupportsWebAuthnAutofill, startAuthentication } = await webauthn;
      if (!(await browserSupportsWebAuthnAutofill())) return;
      const options = await passkeySignInOptionsAction();
      if (!options || !active) return;
      // Waits, without any prompt, until the person picks a passkey among the email field's suggestions.
      const response = await startAuthentication({
        optionsJSON: options,
        useBrowserAutofill: true,
      });
      if (active) await finish(response);
    })().catch(() => {
      // Aborted (the button started its own request, or the page is leaving) or dismissed: nothing to say.
    });
    return () => {
      active = false;
      void webauthn.then(({ WebAuthnAbortService }) => WebAuthnAbortService.cancelCeremony());
    };
  }, []);

  async function signInWithButton() {
    setMessage(undefined);
    const options = await passkeySignInOptionsAction();
    if (!options) return setMessage("Passkeys are not available here right now. Log in with your email and password.");
    const { startAuthentication } = await import("@simplewebauthn/browser");
    let response;
    try {
      response = await startAuthentication({ optionsJSON: options });
    } catch {
      return setMessage("No passkey was used: the request was cancelled or timed out.");
    }
    await finish(response);
  }

  if (!supported) return null;
  return (
    <div className="mt-5 space-y-3">
      <p className="text-muted-foreground text-center text-sm">or</p>
      {message ? <Alert tone="error">{message}</Alert> : null}
      <Button type="button" variant="secondary" onClick={signInWithButton} disabled={pending} className="w-full">
        {pending ? "Signing in…" : "Sign in with a passkey"}
      </Button>
    </div>
  );
}
