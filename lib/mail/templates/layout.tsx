import { Body } from "@react-email/body";
import { Container } from "@react-email/container";
import { Head } from "@react-email/head";
import { Heading } from "@react-email/heading";
import { Hr } from "@react-email/hr";
import { Html } from "@react-email/html";
import { Preview } from "@react-email/preview";
import { Section } from "@react-email/section";
import { Text } from "@react-email/text";
import type { CSSProperties, ReactNode } from "react";

/*
 * The frame every message shares. Inline styles and React Email's table-based Container and Section, the
 * forms Gmail, Outlook (Word engine included) and Apple Mail all render; system fonts only (no web fonts
 * to block or fall back from); light colours declared as the only scheme, so clients that darken mail do
 * it whole instead of inverting half of it.
 */

export const colors = {
  page: "#f4f4f5",
  card: "#ffffff",
  text: "#18181b",
  body: "#3f3f46",
  muted: "#71717a",
  border: "#e4e4e7",
} as const;

export const fontFamily = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";
export const monoFamily = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace";

export const paragraph: CSSProperties = { color: colors.body, fontSize: 16, lineHeight: "24px", margin: "0 0 16px" };

export function EmailLayout({
  appName,
  heading,
  preview,
  children,
  footer,
}: {
  appName: string;
  heading: string;
  /** The line inbox lists show after the subject. Never a code: previews show on lock screens. */
  preview: string;
  children: ReactNode;
  footer?: ReactNode;
}) {
  return (
    <Html lang="en" dir="ltr">
      <Head>
        <meta name="color-scheme" content="light" />
        <meta name="supported-color-schemes" content="light" />
      </Head>
      <Preview>{preview}</Preview>
      <Body style={{ backgroundColor: colors.page, fontFamily, margin: 0, padding: "32px 12px" }}>
        <Container style={{ maxWidth: 480, margin: "0 auto" }}>
          <Text style={{ color: colors.text, fontSize: 15, fontWeight: 600, letterSpacing: "-0.01em", margin: "0 0 16px 4px" }}>{appName}</Text>
          <Section style={{ backgroundColor: colors.card, border: `1px solid ${colors.border}`, borderRadius: 12, padding: "32px 28px" }}>
            <Heading as="h1" style={{ color: colors.text, fontSize: 22, lineHeight: "28px", fontWeight: 600, margin: "0 0 16px" }}>
              {heading}
            </Heading>
            {children}
          </Section>
          {footer ? (
            <>
              <Hr style={{ borderColor: colors.border, margin: "24px 0 16px" }} />
              <Text style={{ color: colors.muted, fontSize: 13, lineHeight: "20px", margin: "0 4px" }}>{footer}</Text>
            </>
          ) : null}
        </Container>
      </Body>
    </Html>
  );
}
