import { getConfig } from "@/lib/platform/config";
import { type PageSetting, prerenderSettings, SETTINGS_META } from "@/lib/web/static-pages";

/** Records in the prerendered HTML the config values the page shows (React puts the tag in <head>). */
export function PrerenderedWith({ uses }: { uses: readonly PageSetting[] }) {
  return <meta name={SETTINGS_META} content={prerenderSettings(getConfig(), uses)} />;
}
