import { LabError } from './errors';

export interface Sample {
  metric: Record<string, string>;
  value: number;
}
export interface Series {
  metric: Record<string, string>;
  values: [number, number][];
}

export class PromQLError extends LabError {}

/** A thin client of Prometheus' HTTP API: instant and range queries, and expression validation. */
export class PrometheusClient {
  constructor(readonly baseUrl: string) {}

  private async api<T>(p: string, params: Record<string, string>): Promise<T> {
    const res = await fetch(`${this.baseUrl}/api/v1/${p}`, {
      method: 'POST',
      body: new URLSearchParams(params),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json()) as {
      status: string;
      data: T;
      error?: string;
      errorType?: string;
    };
    if (body.status !== 'success')
      throw new PromQLError(
        `Prometheus rejected ${JSON.stringify(params.query ?? p)}: ${body.errorType}: ${body.error}`,
      );
    return body.data;
  }

  async query(expr: string, time?: number): Promise<Sample[]> {
    const data = await this.api<{ resultType: string; result: unknown }>('query', {
      query: expr,
      ...(time ? { time: String(time) } : {}),
    });
    if (data.resultType === 'scalar') {
      const [, v] = data.result as [number, string];
      return [{ metric: {}, value: Number(v) }];
    }
    return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map(
      (r) => ({ metric: r.metric, value: Number(r.value[1]) }),
    );
  }

  /** One number: the sum of an instant vector — undefined when it is empty (no data is not zero). */
  async scalar(expr: string, time?: number): Promise<number | undefined> {
    const samples = await this.query(expr, time);
    return samples.length ? samples.reduce((a, s) => a + s.value, 0) : undefined;
  }

  async range(expr: string, start: number, end: number, stepSec: number): Promise<Series[]> {
    const data = await this.api<{
      result: { metric: Record<string, string>; values: [number, string][] }[];
    }>('query_range', {
      query: expr,
      start: String(start),
      end: String(end),
      step: String(stepSec),
    });
    return data.result.map((r) => ({
      metric: r.metric,
      values: r.values.map(([t, v]) => [t, Number(v)] as [number, number]),
    }));
  }

  /** Every metric name Prometheus holds a series of. */
  async metricNames(): Promise<string[]> {
    const res = await fetch(`${this.baseUrl}/api/v1/label/__name__/values`, {
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json()) as { status: string; data: string[] };
    if (body.status !== 'success')
      throw new PromQLError(`Prometheus did not list its metric names (HTTP ${res.status})`);
    return body.data;
  }

  /**
   * The rules Prometheus has loaded (`/api/v1/rules`): what it evaluates, which may differ from the files on disk
   * until it reloads them.
   */
  async rules(): Promise<LoadedRule[]> {
    const res = await fetch(`${this.baseUrl}/api/v1/rules`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as {
      status: string;
      data: {
        groups: {
          name: string;
          file: string;
          rules: { type: string; name: string; labels?: Record<string, string> }[];
        }[];
      };
    };
    if (body.status !== 'success')
      throw new PromQLError(`Prometheus did not list its rules (HTTP ${res.status})`);
    return body.data.groups.flatMap((g) =>
      g.rules.map((r) => ({
        type: r.type === 'alerting' ? ('alerting' as const) : ('recording' as const),
        name: r.name,
        group: g.name,
        file: g.file,
        ...(r.labels?.severity ? { severity: r.labels.severity } : {}),
      })),
    );
  }

  async targets(): Promise<{ job: string; instance: string; health: string; lastError: string }[]> {
    const res = await fetch(`${this.baseUrl}/api/v1/targets?state=active`, {
      signal: AbortSignal.timeout(5000),
    });
    const body = (await res.json()) as {
      data: {
        activeTargets: { labels: Record<string, string>; health: string; lastError: string }[];
      };
    };
    return body.data.activeTargets.map((t) => ({
      job: t.labels.job,
      instance: t.labels.instance,
      health: t.health,
      lastError: t.lastError,
    }));
  }

  /**
   * When each active target was last scraped and each rule group last evaluated (ms since the epoch): what a
   * caller waits on to know that values it just produced are stored, and recording rules and alerts computed on them.
   */
  async scrapeState(): Promise<ScrapeState> {
    const get = async <T>(p: string) => {
      const res = await fetch(`${this.baseUrl}/api/v1/${p}`, { signal: AbortSignal.timeout(5000) });
      const body = (await res.json()) as { status: string; data: T };
      if (body.status !== 'success')
        throw new PromQLError(`Prometheus did not answer /api/v1/${p} (HTTP ${res.status})`);
      return body.data;
    };
    const [targets, rules] = await Promise.all([
      get<{ activeTargets: { labels: Record<string, string>; lastScrape: string }[] }>(
        'targets?state=active',
      ),
      get<{ groups: { name: string; lastEvaluation?: string }[] }>('rules'),
    ]);
    return {
      targets: targets.activeTargets.map((t) => ({
        target: `${t.labels.job}/${t.labels.instance}`,
        lastScrapeMs: Date.parse(t.lastScrape),
      })),
      ruleGroups: rules.groups.map((g) => ({
        group: g.name,
        lastEvaluationMs: g.lastEvaluation ? Date.parse(g.lastEvaluation) : 0,
      })),
    };
  }
}

export interface ScrapeState {
  targets: { target: string; lastScrapeMs: number }[];
  ruleGroups: { group: string; lastEvaluationMs: number }[];
}

/** One rule as Prometheus loaded it: an alert (its name is the alertname) or a recording rule. */
export interface LoadedRule {
  type: 'alerting' | 'recording';
  name: string;
  group: string;
  /** the rule file it was read from, as Prometheus names it (an absolute path) */
  file: string;
  severity?: string;
}
