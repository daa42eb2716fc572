/**
 * Prometheus metrics of one router, in the text exposition format (0.0.4). Each router owns its
 * Metrics, so two APIs in one app report separately (mount them under different paths, or label
 * them with `constLabels`).
 */

const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

type Labels = Record<string, string>;

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labelText = (labels: Labels) => {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};
const num = (v: number) => (Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN');

class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string, readonly help: string) {}

  inc(labels: Labels, by = 1): void {
    const key = labelText(labels);
    const entry = this.values.get(key) ?? { labels, value: 0 };
    entry.value += by;
    this.values.set(key, entry);
  }

  render(constLabels: Labels): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.values.values()) lines.push(`${this.name}${labelText({ ...constLabels, ...labels })} ${num(value)}`);
    return lines;
  }
}

class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, readonly buckets: number[] = DEFAULT_BUCKETS) {}

  observe(labels: Labels, value: number): void {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels, counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  render(constLabels: Labels): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const { labels, counts, sum, count } of this.series.values()) {
      const all = { ...constLabels, ...labels };
      this.buckets.forEach((le, i) => lines.push(`${this.name}_bucket${labelText({ ...all, le: num(le) })} ${counts[i]}`));
      lines.push(`${this.name}_bucket${labelText({ ...all, le: '+Inf' })} ${count}`);
      lines.push(`${this.name}_sum${labelText(all)} ${num(sum)}`);
      lines.push(`${this.name}_count${labelText(all)} ${count}`);
    }
    return lines;
  }
}

export type Outcome = 'ok' | 'error' | 'timeout';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export class Metrics {
  private readonly requests = new Counter('reprise_http_requests_total', 'HTTP requests answered, by route and status.');
  private readonly latency = new Histogram('reprise_http_request_duration_seconds', 'Time to answer an HTTP request, by route and status.');
  private readonly encoder = new Histogram('reprise_encoder_duration_seconds', 'Time spent embedding queries, by tower and outcome.');
  private readonly store = new Histogram('reprise_store_duration_seconds', 'Time spent in the vector store, by operation and outcome.');

  constructor(private readonly constLabels: Labels = {}) {}

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.requests.inc(labels);
    this.latency.observe(labels, seconds);
  }

  observeEncoder(tower: 'text' | 'image', outcome: Outcome, seconds: number): void {
    this.encoder.observe({ tower, outcome }, seconds);
  }

  observeStore(operation: string, outcome: Outcome, seconds: number): void {
    this.store.observe({ operation, outcome }, seconds);
  }

  render(): string {
    return [this.requests, this.latency, this.encoder, this.store].flatMap((m) => m.render(this.constLabels)).join('\n') + '\n';
  }
}
