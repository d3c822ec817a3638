/** Percentiles of a phase's timings, the recorder that collects them, and how numbers are printed. */

export interface Stats {
  n: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function stats(values: number[]): Stats | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  // Indexes clamped to the sorted list, which is not empty.
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  return { n: s.length, mean: s.reduce((a, b) => a + b, 0) / s.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: s[s.length - 1]! };
}

export class Recorder {
  readonly values = new Map<string, number[]>();
  errors = 0;
  readonly errorSamples: string[] = [];
  add(step: string, ms: number) {
    let list = this.values.get(step);
    if (!list) this.values.set(step, (list = []));
    list.push(ms);
  }
  fail(message: string) {
    this.errors += 1;
    if (this.errorSamples.length < 5) this.errorSamples.push(message);
  }
  summary(): Record<string, Stats> {
    return Object.fromEntries([...this.values].map(([k, v]) => [k, stats(v)!]));
  }
}

export const fmt = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? "-" : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
export const kNum = (n: number) => (n >= 1000 ? `${Math.round(n / 1000)}k` : String(n));
