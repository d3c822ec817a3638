import { formatDuration, METRIC_SPANS, SERIES, type AuthMetrics, type SeriesName } from "@/lib/staff/metrics";
import { BarChart } from "./bar-chart";

const SERIES_TITLE: Record<SeriesName, string> = {
  registrations: "Registrations",
  verifications: "Verifications",
  codesSent: "Codes sent",
  deliveryFailures: "Delivery failures",
};

function percent(rate: number | null): string {
  return rate === null ? "–" : `${Math.round(rate * 1000) / 10}%`;
}

function bucketLabel(m: AuthMetrics, start: Date): string {
  const iso = start.toISOString();
  return m.span === "24h" ? `${iso.slice(11, 16)} UTC` : iso.slice(0, 10);
}

/** "7 in total over the last 24 hours; most in one hour: 3 (14:00 UTC)." */
function summaryOf(m: AuthMetrics, name: SeriesName): string {
  const values = m.series[name];
  const total = values.reduce((a, b) => a + b, 0);
  const { label, bucketLabel: unit } = METRIC_SPANS[m.span];
  if (total === 0) return `None over the ${label}.`;
  const peak = Math.max(...values);
  const at = values.indexOf(peak);
  return `${total} in total over the ${label}; most in one ${unit}: ${peak} (${bucketLabel(m, m.bucketStarts[at]!)}).`;
}

/** The operators' numbers, from auth_events: a summary table, then small charts per span with their data. */
export function MetricsPanel({ day, week }: { day: AuthMetrics; week: AuthMetrics }) {
  const rows: Array<[string, (m: AuthMetrics) => string]> = [
    ["Registrations", (m) => String(m.registrations)],
    ["Verification rate", (m) => (m.registrations ? `${percent(m.verificationRate)} (${m.registrationsVerified} of ${m.registrations})` : "–")],
    ["Codes sent", (m) => String(m.codesSent)],
    ["Delivery failures", (m) => String(m.deliveryFailures)],
    ["Median time from signup to verification", (m) => (m.medianVerificationMs === null ? "–" : formatDuration(m.medianVerificationMs))],
  ];
  return (
    <section aria-labelledby="metrics-heading" className="space-y-6">
      <h2 id="metrics-heading" className="text-xl font-semibold tracking-tight">
        Signups and delivery
      </h2>
      <div className="overflow-x-auto">
        <table className="w-full text-left text-sm" data-testid="metrics-summary">
          <caption className="sr-only">Signup and delivery metrics for the last 24 hours and the last 7 days</caption>
          <thead>
            <tr className="border-border text-muted-foreground border-b">
              <th scope="col" className="py-2 pr-4 font-medium">
                Metric
              </th>
              <th scope="col" className="py-2 pr-4 font-medium">
                Last 24 hours
              </th>
              <th scope="col" className="py-2 font-medium">
                Last 7 days
              </th>
            </tr>
          </thead>
          <tbody className="divide-border divide-y">
            {rows.map(([name, value]) => (
              <tr key={name}>
                <th scope="row" className="py-2 pr-4 font-normal">
                  {name}
                </th>
                <td className="py-2 pr-4 font-medium tabular-nums">{value(day)}</td>
                <td className="py-2 font-medium tabular-nums">{value(week)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {[day, week].map((m) => (
        <div key={m.span} className="space-y-3">
          <h3 className="font-medium">{m.span === "24h" ? "Last 24 hours, per hour (UTC)" : "Last 7 days, per day (UTC)"}</h3>
          <div className="grid grid-cols-1 gap-4 sm:grid-cols-2 lg:grid-cols-4">
            {SERIES.map((name) => (
              <BarChart
                key={name}
                id={`chart-${m.span}-${name}`}
                title={`${SERIES_TITLE[name]}, ${METRIC_SPANS[m.span].label}`}
                summary={summaryOf(m, name)}
                values={m.series[name]}
                labels={m.bucketStarts.map((start) => bucketLabel(m, start))}
              />
            ))}
          </div>
          <details className="text-sm">
            <summary className="cursor-pointer font-medium underline underline-offset-4">Numbers behind these charts</summary>
            <div className="mt-2 max-h-72 overflow-auto" tabIndex={0} role="region" aria-label={`Numbers for the ${METRIC_SPANS[m.span].label}`}>
              <table className="w-full text-left tabular-nums">
                <thead>
                  <tr className="border-border text-muted-foreground border-b">
                    <th scope="col" className="py-1 pr-3 font-medium">
                      {m.span === "24h" ? "Hour" : "Day"}
                    </th>
                    {SERIES.map((name) => (
                      <th key={name} scope="col" className="py-1 pr-3 font-medium">
                        {SERIES_TITLE[name]}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {m.bucketStarts.map((start, i) => (
                    <tr key={start.toISOString()} className="border-border border-b last:border-0">
                      <th scope="row" className="py-1 pr-3 font-normal">
                        {bucketLabel(m, start)}
                      </th>
                      {SERIES.map((name) => (
                        <td key={name} className="py-1 pr-3">
                          {m.series[name][i]}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </details>
        </div>
      ))}
    </section>
  );
}
