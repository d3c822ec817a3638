import { beforeEach, describe, expect, it, vi } from "vitest";
import { wireServices } from "@/lib/platform/runtime";
import { parseConfig } from "@/lib/platform/config";
import type { createRecovery } from "@/lib/accounts/recovery";
import { ipKey, ipLimits } from "@/lib/codes/limits";
import { emailOnlySchema, resetPasswordSchema } from "@/lib/schemas";
import { MemoryCodeStore } from "@/lib/store/memory";
import { advance, CapturingMailer, serviceHarness, startFakeClock } from "@/testing/service-harness";

/**
 * Guessing spread over many addresses: IPv6 networks bucketed at /64, /56 and /48, and the product-wide
 * alarm that makes every code check wait while wrong codes across all addresses are far above normal.
 * The wait is a sleep the service is given: these tests count its calls, they never time anything.
 */

const SECRET = "test-secret-for-guessing-limits-0123456789";
const ALARM = 5;
const DELAY_MS = 700;
const config = parseConfig({
  NODE_ENV: "test",
  AUTH_SECRET: SECRET,
  CODE_FAILURE_ALARM_PER_HOUR: String(ALARM),
  CODE_FAILURE_ALARM_DELAY_MS: String(DELAY_MS),
});
const HOUR = 60 * 60 * 1000;
const NEW_PASSWORD = "velvet hammock orbit lantern 42";

describe("IPv6 buckets", () => {
  it("ipKey groups an address by its /64, /56 and /48, whatever the notation", () => {
    expect(ipKey("2001:db8:1:5678::1")).toBe("2001:db8:1:5678::/64");
    expect(ipKey("2001:0db8:0001:5678:aaaa::1", 56)).toBe("2001:db8:1:5600::/56");
    expect(ipKey("2001:db8:1:56ff:1:2:3:4", 56)).toBe("2001:db8:1:5600::/56");
    expect(ipKey("2001:db8:1:5678::1", 48)).toBe("2001:db8:1::/48");
    expect(ipKey("2001:db8:1::1", 48)).toBe("2001:db8:1::/48");
  });

  it("code and login failures from an IPv6 client count on its /64, /56 and /48 with their own limits; an IPv4 client has one bucket", () => {
    const defaults = parseConfig({ NODE_ENV: "test", AUTH_SECRET: SECRET });
    expect(ipLimits(defaults, "code-fail", "2001:db8:1:5678::1").map((r) => [r.key, r.limit])).toEqual([
      ["limit:ip:2001:db8:1:5678::/64:code-fail", 60],
      ["limit:ip:2001:db8:1:5600::/56:code-fail", 120],
      ["limit:ip:2001:db8:1::/48:code-fail", 240],
    ]);
    expect(ipLimits(defaults, "login-fail", "2001:db8:1:5678::1").map((r) => r.limit)).toEqual([30, 60, 120]);
    expect(ipLimits(defaults, "code-fail", "203.0.113.9").map((r) => r.key)).toEqual(["limit:ip:203.0.113.9:code-fail"]);
    expect(ipLimits(defaults, "code-fail", "::ffff:203.0.113.9").map((r) => r.key)).toEqual(["limit:ip:203.0.113.9:code-fail"]);
  });
});

describe("the guessing alarm", () => {
  const harness = serviceHarness("guessing-limits-test");
  let recovery: ReturnType<typeof createRecovery>;
  let sleep: ReturnType<typeof vi.fn<(ms: number) => Promise<void>>>;
  let n = 0;
  const ctx = () => ({ ip: `198.51.100.${(n++ % 250) + 1}` });
  const guess = (email: string) =>
    recovery.resetPassword(resetPasswordSchema(config.passwordMinLength).parse({ email, otp: "000000", password: NEW_PASSWORD }), ctx());
  const events = () =>
    vi
      .mocked(console.info)
      .mock.calls.map(([line]) => JSON.parse(String(line)) as { event: string })
      .filter((e) => e.event === "code_guessing_alarm");

  beforeEach(async () => {
    const handle = await harness.freshDatabase();
    startFakeClock();
    sleep = vi.fn(async () => {});
    const deps = { db: handle.db, store: new MemoryCodeStore(), mailer: new CapturingMailer(), config, now: () => Date.now(), defer: harness.defer, sleep };
    recovery = wireServices(deps).recovery;
  });

  it("below CODE_FAILURE_ALARM_PER_HOUR wrong codes across all addresses, code checks do not wait", async () => {
    for (let i = 0; i < ALARM; i++) expect(await guess(`a${i}@example.com`)).toEqual({ ok: false, reason: "wrong_code" });
    expect(sleep).not.toHaveBeenCalled();
    expect(events()).toEqual([]);
  });

  it("once they reach it, every code check (any address, any client) waits CODE_FAILURE_ALARM_DELAY_MS first and is still answered; the alarm is logged once", async () => {
    for (let i = 0; i < ALARM; i++) await guess(`a${i}@example.com`);
    expect(await guess("someone-else@example.com")).toEqual({ ok: false, reason: "wrong_code" });
    expect(await guess("another@example.com")).toEqual({ ok: false, reason: "wrong_code" });
    expect(sleep.mock.calls).toEqual([[DELAY_MS], [DELAY_MS]]);
    expect(events()).toEqual([expect.objectContaining({ event: "code_guessing_alarm", threshold: ALARM, delayMs: DELAY_MS })]);
    expect(JSON.stringify(events())).not.toMatch(/@|000000/);
  });

  it("a request for a reset is never slowed, and the alarm ends with its hour", async () => {
    for (let i = 0; i < ALARM; i++) await guess(`a${i}@example.com`);
    await recovery.requestPasswordReset(emailOnlySchema.parse({ email: "b@example.com" }).email, ctx());
    expect(sleep).not.toHaveBeenCalled();
    advance(HOUR + 1000);
    await guess("later@example.com");
    expect(sleep).not.toHaveBeenCalled();
  });
});

describe("the alarm on /admin", () => {
  it("GuessingAlarmNotice says the alarm is on, with its level and delay, and renders nothing while it is off", async () => {
    const { renderToStaticMarkup } = await import("react-dom/server");
    const { createElement } = await import("react");
    const { GuessingAlarmNotice } = await import("@/app/admin/guessing-alarm-notice");
    const on = renderToStaticMarkup(createElement(GuessingAlarmNotice, { on: true, threshold: 2000, delayMs: 1000 }));
    expect(on).toContain('data-testid="guessing-alarm"');
    expect(on).toMatch(/Guessing alarm: 2000 or more wrong codes/);
    expect(on).toContain("waits 1000 ms");
    expect(renderToStaticMarkup(createElement(GuessingAlarmNotice, { on: false, threshold: 2000, delayMs: 1000 }))).toBe("");
  });

  it("the admin page asks the alarm's state from the code store: isOn() is true exactly while the hour's wrong codes are at the level", async () => {
    const { createGuessingAlarm } = await import("@/lib/codes/guessing-alarm");
    const store = new MemoryCodeStore();
    const alarm = createGuessingAlarm({ store, config });
    expect(await alarm.isOn()).toBe(false);
    for (let i = 0; i < ALARM; i++) await store.limits("record", alarm.counted);
    expect(await alarm.isOn()).toBe(true);
  });
});
