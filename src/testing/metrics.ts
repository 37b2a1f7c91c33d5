import { setTimeout as sleep } from 'node:timers/promises';

export type Labels = Record<string, string>;

export interface Sample {
  labels: Labels;
  value: number;
}

/** One scrape of `GET /metrics`. */
export interface Scrape {
  /** Every sample of the metric `name` (a histogram's are `<name>_count`, `<name>_sum`, `<name>_bucket`). */
  samples(name: string): Sample[];
  /** The value of the sample with exactly these labels; 0 when there is none (nothing counted yet). */
  value(name: string, labels?: Labels): number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Scrapes and reads the Prometheus text format line by line: `name{a="x",b="y"} 3`, comments skipped. */
export async function scrape(metricsUrl: string): Promise<Scrape> {
  const response = await fetch(metricsUrl);
  if (response.status !== 200) throw new Error(`GET ${metricsUrl} answered ${response.status}`);
  const byName = new Map<string, Sample[]>();
  for (const line of (await response.text()).split('\n')) {
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const [, name, labelText = '', value] = match;
    const labels = Object.fromEntries([...labelText.matchAll(LABEL)].map(([, key, text]) => [key, text]));
    byName.set(name, [...(byName.get(name) ?? []), { labels, value: Number(value) }]);
  }
  const samples = (name: string) => byName.get(name) ?? [];
  const sameLabels = (a: Labels, b: Labels) => Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => a[k] === v);
  return {
    samples,
    value: (name, labels = {}) => samples(name).find((sample) => sameLabels(sample.labels, labels))?.value ?? 0,
  };
}

/**
 * Scrapes until `done` holds of the value of one sample, for what the server records after its answer went out
 * (a subscription ended, a publish failed); fails after about 10 s with the last value.
 */
export async function scrapeUntil(metricsUrl: string, name: string, labels: Labels, done: (value: number) => boolean): Promise<number> {
  let value = NaN;
  for (let attempt = 0; attempt < 200; attempt++) {
    value = (await scrape(metricsUrl)).value(name, labels);
    if (done(value)) return value;
    await sleep(50);
  }
  throw new Error(`${name}${JSON.stringify(labels)} is still ${value}`);
}
