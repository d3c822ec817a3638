import LoginPage from "@/app/(auth)/login/page";
import { PrerenderedWith } from "@/app/prerendered/prerendered-with";

export { metadata } from "@/app/(auth)/login/page";

// Built once: proxy.ts serves this HTML for a plain GET of /login (lib/web/static-pages.ts).
export const dynamic = "force-static";

export default function PrerenderedLoginPage() {
  return (
    <>
      <PrerenderedWith uses={["signInByCode"]} />
      <LoginPage searchParams={Promise.resolve({})} />
    </>
  );
}
