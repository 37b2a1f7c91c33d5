/**
 * Where a `--cpu-prof` profile spends its time: self time by package and by function, and total (inclusive) time
 * of the functions that matter most.
 *
 *   node dist/bench/profile-summary.js bench/results/profiles/CPU.*.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The package (or Parley file) a function belongs to, for grouping. */
function owner(url: string): string {
  if (!url) return '(native/gc/idle)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const [scopeOrName, name] = url.slice(modules + 'node_modules/'.length).split('/');
    return scopeOrName.startsWith('@') ? `${scopeOrName}/${name}` : scopeOrName;
  }
  if (url.startsWith('node:')) return 'node core';
  const dist = url.indexOf('/dist/');
  return dist >= 0 ? `parley ${url.slice(dist + 6)}` : url;
}

/** A function's name and where it is: package and file for dependencies, the file for Parley's own code. */
function place({ functionName, url, lineNumber }: ProfileNode['callFrame']): string {
  const modules = url.lastIndexOf('node_modules/');
  const where = modules >= 0 ? url.slice(modules + 'node_modules/'.length) : owner(url);
  return `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
}

function summarize(profile: Profile, top: number) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self].filter(([id]) => ['(idle)', '(program)'].includes(byId.get(id)!.callFrame.functionName)).reduce((a, [, t]) => a + t, 0);

  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const inclusive = new Map<string, number>();
  for (const [id, time] of self) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const key = place(byId.get(at)!.callFrame);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + time);
    }
  }

  const group = (key: (node: ProfileNode) => string) => {
    const sums = new Map<string, number>();
    for (const [id, time] of self) sums.set(key(byId.get(id)!), (sums.get(key(byId.get(id)!)) ?? 0) + time);
    return [...sums].sort((a, b) => b[1] - a[1]).slice(0, top);
  };
  const pct = (t: number) => `${((100 * t) / (total - idle)).toFixed(1).padStart(5)}%`;
  const print = (title: string, rows: [string, number][]) => {
    console.log(`\n${title}`);
    for (const [name, time] of rows) console.log(`  ${pct(time)}  ${name}`);
  };
  console.log(`busy ${((total - idle) / 1e6).toFixed(1)} s of ${(total / 1e6).toFixed(1)} s sampled (percentages are of busy time)`);
  print('self time by package', group((n) => owner(n.callFrame.url)));
  print('self time by function', group((n) => place(n.callFrame)));
  print('total time by function', [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top));
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
for (const file of positionals) {
  console.log(`== ${file}`);
  summarize(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(values.top));
}
