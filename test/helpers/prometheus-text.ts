/** Reads the Prometheus text exposition format back into samples, for assertions on /metrics. */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** Samples of `name` whose labels include `labels`. */
export function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The sum of the matching samples' values (0 when none match). */
export function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return find(samples, name, labels).reduce((sum, s) => sum + s.value, 0);
}

/** Metric family names declared with `# TYPE` (histograms and counters by their base name). */
export function familyNames(text: string): Set<string> {
  return new Set([...text.matchAll(/^# TYPE (\S+) \S+$/gm)].map((m) => m[1]!));
}

export async function scrape(url: string): Promise<{ text: string; contentType: string | null; samples: Sample[] }> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
  const text = await res.text();
  return { text, contentType: res.headers.get('content-type'), samples: parseExposition(text) };
}

/**
 * Every metric name a real embedded server exports once it has run one evaluation (so its
 * histograms and labelled counters exist): family names from `# TYPE` and sample names
 * (`_bucket`, `_sum`, `_count`). The server is stopped before this returns.
 */
export async function exportedMetricNames(): Promise<{ families: Set<string>; all: Set<string> }> {
  const { startTestServer, api } = await import('./server.js');
  const server = await startTestServer({ workers: 1 });
  try {
    await api(server.url, 'POST', '/api/evaluations?wait=true', { code: 'print(1)' });
    const { text, samples } = await scrape(`${server.url}/metrics`);
    const families = familyNames(text);
    return { families, all: new Set([...families, ...samples.map((s) => s.name)]) };
  } finally {
    await server.stop();
  }
}
