import ForgotPasswordPage from "@/app/(auth)/forgot-password/page";
import { PrerenderedWith } from "@/app/prerendered/prerendered-with";

export { metadata } from "@/app/(auth)/forgot-password/page";

// Built once: proxy.ts serves this HTML for a plain GET of /forgot-password (lib/web/static-pages.ts).
export const dynamic = "force-static";

export default function PrerenderedForgotPasswordPage() {
  return (
    <>
      <PrerenderedWith uses={[]} />
      <ForgotPasswordPage searchParams={Promise.resolve({})} />
    </>
  );
}
