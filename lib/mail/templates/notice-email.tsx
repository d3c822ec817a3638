import { Body, Container, Head, Heading, Html, Preview, Text } from "@react-email/components";

/** A plain notice (no code): a heading and a few paragraphs of our own text, never the requester's. */
export function NoticeEmail({ appName, heading, paragraphs }: { appName: string; heading: string; paragraphs: string[] }) {
  return (
    <Html lang="en">
      <Head />
      <Preview>{heading}</Preview>
      <Body style={{ backgroundColor: "#f4f4f5", fontFamily: "-apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif", margin: 0, padding: "24px 0" }}>
        <Container style={{ backgroundColor: "#ffffff", borderRadius: 12, maxWidth: 480, padding: "32px 28px" }}>
          <Text style={{ color: "#71717a", fontSize: 14, margin: "0 0 8px" }}>{appName}</Text>
          <Heading as="h1" style={{ color: "#18181b", fontSize: 22, margin: "0 0 16px" }}>
            {heading}
          </Heading>
          {paragraphs.map((paragraph, index) => (
            <Text key={index} style={{ color: "#3f3f46", fontSize: 16, lineHeight: "24px" }}>
              {paragraph}
            </Text>
          ))}
        </Container>
      </Body>
    </Html>
  );
}
