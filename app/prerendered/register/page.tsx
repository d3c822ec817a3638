import RegisterPage from "@/app/(auth)/register/page";
import { PrerenderedWith } from "@/app/prerendered/prerendered-with";

export { metadata } from "@/app/(auth)/register/page";

// Built once: proxy.ts serves this HTML for a plain GET of /register (lib/web/static-pages.ts).
export const dynamic = "force-static";

export default function PrerenderedRegisterPage() {
  return (
    <>
      <PrerenderedWith uses={["passwordMinLength"]} />
      <RegisterPage />
    </>
  );
}
