import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format';

/** A parsed scrape: look families and samples up by name and labels. */
export class Scrape {
  readonly families: Map<string, PrometheusFamily>;

  constructor(readonly text: string) {
    this.families = new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
  }

  family(name: string): PrometheusFamily {
    const family = this.families.get(name);
    if (!family) throw new Error(`no metric family ${name} in the scrape`);
    return family;
  }

  /** The value of the one sample of `name` whose labels include `labels`; undefined when there is none. */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    const matching = this.family(name).metrics.filter((m) =>
      Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
    );
    if (matching.length > 1) throw new Error(`${matching.length} samples of ${name} match ${JSON.stringify(labels)}`);
    const sample = matching[0];
    if (sample === undefined) return undefined;
    return Number(sample.value ?? sample.count);
  }

  /** Every sample of `name` as `labels → value`. */
  samples(name: string): Array<{ labels: Record<string, string>; value: number }> {
    return this.family(name).metrics.map((m) => ({ labels: m.labels ?? {}, value: Number(m.value ?? m.count) }));
  }
}

/** GETs /metrics through `fetcher` (yoga.fetch or the global fetch) and parses it; fails on a non-200 answer. */
export async function scrape(
  fetcher: (request: Request) => Promise<Response> | Response,
  url = 'http://localhost/metrics',
  headers: Record<string, string> = {},
): Promise<Scrape> {
  const res = await fetcher(new Request(url, { headers }));
  const text = await res.text();
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${text}`);
  return new Scrape(text);
}
