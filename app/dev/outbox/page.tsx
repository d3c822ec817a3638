import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { getConfig } from "@/lib/platform/config";
import { readDevOutbox } from "@/lib/mail/outbox";

export const metadata: Metadata = { title: "Development outbox" };
export const dynamic = "force-dynamic";

/** Development only: the messages the dev outbox "sent". Absent in production builds. */
export default function DevOutboxPage() {
  if (process.env.NODE_ENV === "production" || getConfig().mail.kind !== "outbox") notFound();
  const messages = readDevOutbox();
  return (
    <div className="mx-auto w-full max-w-3xl space-y-4 px-4 py-10">
      <h1 className="text-2xl font-semibold">Development outbox</h1>
      <p className="text-muted-foreground text-sm">
        Mail is not sent in development without RESEND_API_KEY or SMTP settings; it lands here (newest first) and in the server console.
      </p>
      {messages.length === 0 ? <p>No messages yet.</p> : null}
      {messages.map((message, index) => (
        <article key={index} className="border-border rounded-lg border p-4">
          <p className="text-muted-foreground text-sm">
            {message.sentAt.toISOString()} · to {message.to}
          </p>
          <h2 className="font-medium">{message.subject}</h2>
          <pre className="mt-2 text-sm whitespace-pre-wrap">{message.text}</pre>
        </article>
      ))}
    </div>
  );
}
