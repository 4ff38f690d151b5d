/**
 * @module dns/fastMetrics — counters and histograms cheap enough for a per-query hot path, exposed through
 * prom-client's Registry (and its cluster aggregation) as ordinary metrics.
 *
 * Why not prom-client's own: every `inc`/`observe` there hashes the label object (sorted keys, string join),
 * ~3.5 µs per query for our three metrics — more than answering the query. Here a caller binds a series once and
 * then bumps plain numbers; the Registry reads them through `get()` at scrape time.
 */
import type { Registry } from 'prom-client';

type MetricType = 'counter' | 'histogram';

interface MetricValue { labels: Record<string, string>; value: number; metricName?: string }
interface MetricSnapshot { name: string; help: string; type: MetricType; values: MetricValue[]; aggregator: 'sum' }

abstract class FastMetric<S> {
  readonly name: string;
  readonly help: string;
  readonly aggregator = 'sum' as const;
  abstract readonly type: MetricType;
  protected readonly labelNames: readonly string[];
  protected readonly series = new Map<string, { labels: Record<string, string>; s: S }>();

  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[]) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
    // prom-client's Registry accepts any object with name/help/type/get(); its typings only know its own classes.
    (registry as unknown as { registerMetric(m: unknown): void }).registerMetric(this);
  }

  protected abstract fresh(): S;

  /** The series for these label values (in labelNames order), created on first use. Bind once, keep it. */
  bind(values: readonly string[]): S {
    const key = values.join('\u0001');
    let entry = this.series.get(key);
    if (!entry) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => { labels[n] = values[i] ?? ''; });
      entry = { labels, s: this.fresh() };
      this.series.set(key, entry);
    }
    return entry.s;
  }

  abstract get(): Promise<MetricSnapshot>;

  reset(): void {
    this.series.clear();
  }
}

export interface CounterSeries { value: number }

export class FastCounter extends FastMetric<CounterSeries> {
  readonly type = 'counter' as const;
  protected fresh(): CounterSeries { return { value: 0 }; }
  async get(): Promise<MetricSnapshot> {
    const values = [...this.series.values()].map(({ labels, s }) => ({ labels, value: s.value }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

export interface HistogramSeries { buckets: number[]; sum: number; count: number }

export class FastHistogram extends FastMetric<HistogramSeries> {
  readonly type = 'histogram' as const;
  readonly #bounds: readonly number[];

  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[], bounds: readonly number[]) {
    super(registry, name, help, labelNames);
    this.#bounds = bounds;
  }

  protected fresh(): HistogramSeries { return { buckets: new Array<number>(this.#bounds.length).fill(0), sum: 0, count: 0 }; }

  observe(s: HistogramSeries, v: number): void {
    const b = this.#bounds;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]!) { s.buckets[i]!++; break; }
    }
    s.sum += v;
    s.count++;
  }

  async get(): Promise<MetricSnapshot> {
    const values: MetricValue[] = [];
    for (const { labels, s } of this.series.values()) {
      let cumulative = 0;
      this.#bounds.forEach((le, i) => {
        cumulative += s.buckets[i]!;
        values.push({ labels: { ...labels, le: String(le) }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { ...labels, le: '+Inf' }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
