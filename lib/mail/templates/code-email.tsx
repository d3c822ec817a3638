import { Section } from "@react-email/section";
import { Text } from "@react-email/text";
import { colors, EmailLayout, monoFamily, paragraph } from "./layout";

export interface CodeEmailProps {
  appName: string;
  heading: string;
  /** What the code is for, in one sentence. Never text the requester chose (see SECURITY.md). */
  intro: string;
  code: string;
  validMinutes: number;
  ignoreNote: string;
}

/**
 * The message that carries a one-time code: the code big, monospaced and spaced for reading at a glance,
 * in one run of digits so it copies and pastes whole. The subject and the preview line never hold it.
 */
export function CodeEmail({ appName, heading, intro, code, validMinutes, ignoreNote }: CodeEmailProps) {
  const validity = `This code works for ${validMinutes} minutes, once.`;
  return (
    <EmailLayout appName={appName} heading={heading} preview={`${intro} ${validity}`} footer={ignoreNote}>
      <Text style={paragraph}>{intro}</Text>
      <Section
        style={{
          backgroundColor: colors.page,
          border: `1px solid ${colors.border}`,
          borderRadius: 8,
          margin: "24px 0",
          padding: "20px 8px",
          textAlign: "center",
        }}
      >
        <Text
          style={{
            color: colors.text,
            fontFamily: monoFamily,
            fontSize: 36,
            fontWeight: 700,
            letterSpacing: 10,
            lineHeight: "44px",
            margin: 0,
            // Balances the spacing after the last digit, so the code sits centred.
            paddingLeft: 10,
          }}
        >
          {code}
        </Text>
      </Section>
      <Text
        style={{ ...paragraph, margin: 0 }}
      >{`This code is valid for ${validMinutes} minutes and works once. Never share it: ${appName} will not ask you for it by phone or in a message.`}</Text>
    </EmailLayout>
  );
}
