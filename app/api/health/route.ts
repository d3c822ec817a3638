import { NextResponse } from "next/server";
import { ConfigError, getConfig } from "@/lib/platform/config";
import { checkHealth } from "@/lib/platform/runtime";

/** Never cached or prerendered: every call checks the dependencies again. */
export const dynamic = "force-dynamic";

const NO_STORE = { "Cache-Control": "no-store" };

/** GET /api/health: 200 when the database, the code store and mail are usable; 503 naming what is not. No secrets. */
export async function GET(): Promise<Response> {
  let config;
  try {
    config = getConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(JSON.stringify({ event: "health_failed", failing: ["config"] }));
    return NextResponse.json(
      { status: "error", failing: ["config"], checks: { config: { ok: false, error: "invalid configuration: see the server log" } } },
      { status: 503, headers: NO_STORE },
    );
  }

  const report = await checkHealth(config);
  if (report.status !== "ok") {
    const errors = Object.fromEntries(report.failing!.map((name) => [name, report.checks[name].error]));
    console.error(JSON.stringify({ event: "health_failed", failing: report.failing, errors }));
  }
  return NextResponse.json(report, { status: report.status === "ok" ? 200 : 503, headers: NO_STORE });
}
