// Benchmarks nlsq-memory beside its peers in one run: medians and ratios, never assertions.
// Run with `npm run bench` (it builds dist/ first).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';

const dist = pathToFileURL(new URL('../dist/index.js', import.meta.url).pathname).href;
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 15);

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

// Every ES module application has loaded a module file before it imports a library: so does each
// cold process here, so that the loader's own start-up is not charged to the library or its peer.
const scratch = mkdtempSync(join(os.tmpdir(), 'nlsq-memory-bench-'));
const warmLoader = pathToFileURL(join(scratch, 'app.mjs')).href;
writeFileSync(join(scratch, 'app.mjs'), 'export {};\n');

/** Median over fresh processes of the milliseconds a script reports. */
function cold(script) {
  const samples = [];
  for (let run = 0; run < COLD_RUNS; run++) {
    const output = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', `await import(${JSON.stringify(warmLoader)}); ${script}`],
      { encoding: 'utf8' },
    );
    samples.push(Number(output));
  }
  return median(samples);
}

const timed = (body) =>
  `const t0 = performance.now(); ${body}; console.log(performance.now() - t0);`;

const coldRows = {
  'import nlsq-memory': cold(timed(`await import(${JSON.stringify(dist)})`)),
  'import systeminformation (eager peer)': cold(timed(`await import('systeminformation')`)),
  'first detectMemory()': cold(
    `const { detectMemory } = await import(${JSON.stringify(dist)}); ${timed('await detectMemory()')}`,
  ),
  'import systeminformation + first mem()': cold(
    timed(`const si = (await import('systeminformation')).default; await si.mem()`),
  ),
};

rmSync(scratch, { recursive: true, force: true });

// Warm calls: each sample runs a batch, so that sub-microsecond calls are above the timer's grain.
const api = await import(dist);
const { memoryPolls } = await import(new URL('../dist/watch.js', import.meta.url).href);
const { next: poll } = await memoryPolls({}, 10);
const si = (await import('systeminformation')).default;
await api.detectMemory();
api.detectMemorySync();
await si.mem();

const SYNC_BATCH = 200;
const ASYNC_BATCH = 20;
const sync = (fn) => () => {
  for (let i = 0; i < SYNC_BATCH; i++) fn();
};
const async = (fn) => async () => {
  for (let i = 0; i < ASYNC_BATCH; i++) await fn();
};

const bench = new Bench({ time: 1000, warmupTime: 200 });
const batches = new Map();
const add = (name, batch, fn) => {
  batches.set(name, batch);
  bench.add(name, fn);
};
add(
  'systeminformation mem() (warm)',
  ASYNC_BATCH,
  async(() => si.mem()),
);
add(
  'getAdaptiveMemoryThreshold() (warm)',
  ASYNC_BATCH,
  async(() => api.getAdaptiveMemoryThreshold()),
);
add(
  'selectNlsqStrategy(1e8, 53) (warm)',
  ASYNC_BATCH,
  async(() => api.selectNlsqStrategy(1e8, 53)),
);
add(
  'os.totalmem()',
  SYNC_BATCH,
  sync(() => os.totalmem()),
);
add(
  'process.constrainedMemory()',
  SYNC_BATCH,
  sync(() => process.constrainedMemory?.()),
);
add(
  'getAdaptiveMemoryThresholdSync() (warm)',
  SYNC_BATCH,
  sync(() => api.getAdaptiveMemoryThresholdSync()),
);
add(
  'getAdaptiveMemoryThresholdSync({ refresh: true })',
  SYNC_BATCH,
  sync(() => api.getAdaptiveMemoryThresholdSync({ refresh: true })),
);
add(
  'watchMemory: one poll',
  SYNC_BATCH,
  sync(() => poll()),
);
add(
  'decideNlsqStrategy(1e8, 53, 24)',
  SYNC_BATCH,
  sync(() => api.decideNlsqStrategy(1e8, 53, 24)),
);
await bench.run();

const warmRows = Object.fromEntries(
  bench.tasks.map((task) => [task.name, task.result.latency.p50 / batches.get(task.name)]),
);
const ms = { ...coldRows, ...warmRows };

const targets = [
  ['import nlsq-memory', 'import systeminformation (eager peer)', 0.25],
  ['first detectMemory()', 'import systeminformation + first mem()', 1.4],
  ['getAdaptiveMemoryThreshold() (warm)', 'systeminformation mem() (warm)', 0.05],
  ['selectNlsqStrategy(1e8, 53) (warm)', 'systeminformation mem() (warm)', 0.05],
  ['getAdaptiveMemoryThresholdSync() (warm)', 'os.totalmem()', 1],
  ['getAdaptiveMemoryThresholdSync({ refresh: true })', 'os.totalmem()', 20],
  ['watchMemory: one poll', 'os.totalmem()', 20],
  ['decideNlsqStrategy(1e8, 53, 24)', 'os.totalmem()', 0.1],
];

const format = (value) =>
  value >= 1 ? `${value.toFixed(2)} ms` : `${(value * 1000).toFixed(2)} µs`;
console.log(
  `Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.platform()} ${os.release()}`,
);
console.log(`cold: median of ${COLD_RUNS} fresh processes; warm: median per call over batches\n`);
console.log('| measurement | median | peer | peer median | ratio | target |');
console.log('| --- | ---: | --- | ---: | ---: | ---: |');
for (const [name, peer, limit] of targets) {
  const ratio = ms[name] / ms[peer];
  const verdict = ratio <= limit ? 'met' : 'MISSED';
  console.log(
    `| ${name} | ${format(ms[name])} | ${peer} | ${format(ms[peer])} | ${ratio.toFixed(3)} | ≤ ${limit} ${verdict} |`,
  );
}
console.log(`\nprocess.constrainedMemory(): ${format(ms['process.constrainedMemory()'])}`);
