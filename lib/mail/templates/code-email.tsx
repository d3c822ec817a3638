import { Body, Container, Head, Heading, Hr, Html, Preview, Section, Text } from "@react-email/components";

export interface CodeEmailProps {
  appName: string;
  heading: string;
  /** What the code is for, in one sentence. Never text the requester chose (see SECURITY.md). */
  intro: string;
  code: string;
  validMinutes: number;
  ignoreNote: string;
}

/** The message that carries a one-time code: the code big, monospaced and spaced for reading at a glance. */
export function CodeEmail({ appName, heading, intro, code, validMinutes, ignoreNote }: CodeEmailProps) {
  return (
    <Html lang="en">
      <Head />
      <Preview>{`${heading} for ${appName}`}</Preview>
      <Body style={{ backgroundColor: "#f4f4f5", fontFamily: "-apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif", margin: 0, padding: "24px 0" }}>
        <Container style={{ backgroundColor: "#ffffff", borderRadius: 12, maxWidth: 480, padding: "32px 28px" }}>
          <Text style={{ color: "#71717a", fontSize: 14, margin: "0 0 8px" }}>{appName}</Text>
          <Heading as="h1" style={{ color: "#18181b", fontSize: 22, margin: "0 0 16px" }}>
            {heading}
          </Heading>
          <Text style={{ color: "#3f3f46", fontSize: 16, lineHeight: "24px" }}>{intro}</Text>
          <Section style={{ backgroundColor: "#f4f4f5", borderRadius: 8, margin: "24px 0", padding: "16px 0", textAlign: "center" }}>
            <Text style={{ color: "#18181b", fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", fontSize: 36, fontWeight: 700, letterSpacing: 8, margin: 0 }}>
              {code}
            </Text>
          </Section>
          <Text style={{ color: "#3f3f46", fontSize: 16, lineHeight: "24px" }}>
            {`This code is valid for ${validMinutes} minutes and works once.`}
          </Text>
          <Hr style={{ borderColor: "#e4e4e7", margin: "24px 0" }} />
          <Text style={{ color: "#71717a", fontSize: 13, lineHeight: "20px", margin: 0 }}>{ignoreNote}</Text>
        </Container>
      </Body>
    </Html>
  );
}
