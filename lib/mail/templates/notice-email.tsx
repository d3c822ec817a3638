import { Text } from "@react-email/text";
import { EmailLayout, paragraph } from "./layout";

/** A plain notice (no code): a heading and a few paragraphs of our own text, never the requester's. */
export function NoticeEmail({ appName, heading, paragraphs }: { appName: string; heading: string; paragraphs: string[] }) {
  return (
    <EmailLayout appName={appName} heading={heading} preview={paragraphs[0] ?? heading} footer={`An automatic message from ${appName} about your account.`}>
      {paragraphs.map((text, index) => (
        <Text key={index} style={{ ...paragraph, margin: index === paragraphs.length - 1 ? 0 : paragraph.margin }}>
          {text}
        </Text>
      ))}
    </EmailLayout>
  );
}
