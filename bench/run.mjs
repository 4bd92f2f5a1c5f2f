// Benchmarks nlsq-memory beside its peers and its floors in one run: medians and ratios, never
// assertions. Run with `npm run bench` (it builds dist/ first), from any folder; `npm run bench
// -- --markdown` also writes the table into the README's performance section.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { bundle } from '../scripts/bundle.mjs';
import { formatMs, MARKERS, markdown, rows } from './table.mjs';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const dist = pathToFileURL(here('../dist/index.js')).href;
const cli = here('../dist/cli.cjs');
const systemInformation = import.meta.resolve('systeminformation');
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 31);

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

// The poll of a watch is not exported: the bench bundles its own copy of the poller and of the
// change detection, as the build bundles the library, where packages resolve.
const cache = here('../node_modules/.cache/nlsq-memory-bench/');
mkdirSync(cache, { recursive: true });
const src = (file) => JSON.stringify(here(`../src/${file}`));
writeFileSync(
  join(cache, 'poll.ts'),
  [
    `export { resolveDetect } from ${src('detect/detectOptions.ts')};`,
    `export { memoryPoller } from ${src('detect/poller.ts')};`,
    `export { Changes } from ${src('watch/changes.ts')};`,
  ].join('\n'),
);
await bundle(join(cache, 'poll.ts'), join(cache, 'poll.cjs'));

// What the work reads on this machine: the floors read the same files, with nothing around them.
const env = { ...process.env };
delete env.DEBUG;
delete env.NODE_OPTIONS;
const work = JSON.parse(
  execFileSync(process.execPath, [here('floor/trace.mjs'), join(cache, 'poll.cjs')], {
    encoding: 'utf8',
    env,
  }),
);
const floorEnv = { ...env, FLOOR_WORK: JSON.stringify(work.refresh) };

// Every ES module application has loaded a module file before it imports a library: so does each
// cold process here, so that the loader's own start-up is not charged to the library or its peer.
const scratch = mkdtempSync(join(os.tmpdir(), 'nlsq-memory-bench-'));
const emptyModule = pathToFileURL(join(scratch, 'app.mjs')).href;
writeFileSync(join(scratch, 'app.mjs'), 'export {};\n');
// An empty package, as a package is imported: its package.json read for its type, its file loaded.
const emptyPackage = join(scratch, 'node_modules/empty-package');
mkdirSync(emptyPackage, { recursive: true });
writeFileSync(
  join(emptyPackage, 'package.json'),
  `${JSON.stringify({ name: 'empty-package', type: 'module', exports: './index.js' })}\n`,
);
writeFileSync(join(emptyPackage, 'index.js'), 'export {};\n');
// The floor of an import, as a package of its own beside it: the floor's reader as an ES module.
const minimalPackage = join(scratch, 'node_modules/minimal-package');
mkdirSync(minimalPackage, { recursive: true });
writeFileSync(
  join(minimalPackage, 'package.json'),
  `${JSON.stringify({ name: 'minimal-package', type: 'module', exports: './index.js' })}\n`,
);
const asModule = readFileSync(here('floor/read.cjs'), 'utf8')
  .replace('\nfunction floor(', '\nexport function floor(')
  .replace('\nmodule.exports = { floor };\n', '\n');
if (asModule.includes('module.exports') || !asModule.includes('export function floor(')) {
  throw new Error('bench/floor/read.cjs no longer reads as the floor package expects');
}
writeFileSync(join(minimalPackage, 'index.js'), asModule);
// The floor of the command as an ES module program: ./floor/command.cjs's, with that package.
const esmCommand = join(scratch, 'command.mjs');
writeFileSync(
  esmCommand,
  readFileSync(here('floor/command.cjs'), 'utf8').replace(
    "const { floor } = require('./read.cjs');",
    "import { floor } from 'minimal-package';",
  ),
);
const peerScript = join(scratch, 'peer.mjs');
writeFileSync(
  peerScript,
  `const si = (await import(${JSON.stringify(systemInformation)})).default;\nconsole.log(JSON.stringify(await si.mem()));\n`,
);

const timed = (body) =>
  `const t0 = performance.now(); ${body}; console.log(performance.now() - t0);`;

/** Ways to take one cold sample, in ms: each runs in a fresh process. */
const cold = {
  'import nlsq-memory': timed(`await import(${JSON.stringify(dist)})`),
  'import systeminformation': timed(`await import(${JSON.stringify(systemInformation)})`),
  'import a minimal package': timed(
    `await import(${JSON.stringify(pathToFileURL(join(minimalPackage, 'index.js')).href)})`,
  ),
  'import + first detectMemory()': timed(
    `const { detectMemory } = await import(${JSON.stringify(dist)}); await detectMemory()`,
  ),
  'import + first detectMemorySync()': timed(
    `const { detectMemorySync } = await import(${JSON.stringify(dist)}); detectMemorySync()`,
  ),
  'import systeminformation + first mem()': timed(
    `const si = (await import(${JSON.stringify(systemInformation)})).default; await si.mem()`,
  ),
  'import an empty module': timed(`await import(${JSON.stringify(`${emptyModule}?again`)})`),
  'import an empty package': timed(
    `await import(${JSON.stringify(pathToFileURL(join(emptyPackage, 'index.js')).href)})`,
  ),
};
/** Commands timed from the outside, start to exit. */
const wall = {
  'nlsq-memory --json (the command)': [cli, '--json'],
  'node -e 0': ['-e', '0'],
  'a minimal CommonJS program, the same files': [here('floor/command.cjs')],
  'a minimal ES module program, the same files': [esmCommand],
  'a script: import systeminformation, mem()': [peerScript],
};

const samples = Object.fromEntries(
  [...Object.keys(cold), ...Object.keys(wall)].map((name) => [name, []]),
);
// Round robin, so that a change of the machine's load reaches every figure alike.
for (let run = 0; run < COLD_RUNS; run++) {
  for (const [name, script] of Object.entries(cold)) {
    const output = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', `await import(${JSON.stringify(emptyModule)}); ${script}`],
      { encoding: 'utf8', env },
    );
    samples[name].push(Number(output));
  }
  for (const [name, args] of Object.entries(wall)) {
    const started = performance.now();
    execFileSync(process.execPath, args, { encoding: 'utf8', env: floorEnv });
    samples[name].push(performance.now() - started);
  }
}
rmSync(scratch, { recursive: true, force: true });
const coldRows = Object.fromEntries(
  Object.entries(samples).map(([name, values]) => [name, median(values)]),
);

const { resolveDetect, memoryPoller, Changes } = createRequire(import.meta.url)(
  join(cache, 'poll.cjs'),
);
const { floor } = createRequire(import.meta.url)(here('floor/read.cjs'));

// Warm calls: each sample runs a batch, so that sub-microsecond calls are above the timer's grain.
const api = await import(dist);
const watched = { fsRoot: '/', pressure: true, pressureThreshold: 10, workingSetThreshold: 0.9 };
const nextPoll = await memoryPoller(resolveDetect({}));
const changes = new Changes(nextPoll(), watched);
const poll = () => changes.next(nextPoll());
const si = (await import(systemInformation)).default;
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
  'detectMemorySync({ refresh: true })',
  SYNC_BATCH,
  sync(() => api.detectMemorySync({ refresh: true })),
);
add(
  'the same reads, minimal',
  SYNC_BATCH,
  sync(() => floor(work.refresh)),
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
  "a poll's reads, minimal",
  SYNC_BATCH,
  sync(() => floor(work.poll)),
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

const cpus = os.cpus();
const [load] = os.loadavg();
const { version } = JSON.parse(readFileSync(here('../package.json'), 'utf8'));
const reads = (what) =>
  [...what.os.map((name) => `os.${name}()`), ...what.files].join(', ') || 'nothing';
const output = [
  `nlsq-memory ${version} on Node.js ${process.version.slice(1)}, ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${os.type()} ${os.release()}; load average ${load.toFixed(2)} (1 min) on ${cpus.length} cores.`,
  `Cold figures: medians of ${COLD_RUNS} fresh processes that have loaded one ES module already (importing another, empty one costs ${formatMs(ms['import an empty module'])}, an empty package ${formatMs(ms['import an empty package'])}: an import's ratio is taken above that, for the figure, its peer and its floor alike); commands: wall time from start to exit. Warm figures: medians per call.`,
  `Floor: the same work by a minimal module that reads the same files into one reused buffer (bench/floor/), as a ratio to the same peer. A refresh here reads ${reads(work.refresh)}; a poll ${reads(work.poll)}. The command's floor as an ES module program: ${(ms['a minimal ES module program, the same files'] / ms['node -e 0']).toFixed(3)}.`,
  '',
  markdown(rows(ms)),
  '',
  `For scale, \`process.constrainedMemory()\` costs ${formatMs(ms['process.constrainedMemory()'])} per call here.`,
].join('\n');
console.log(output);

if (process.argv.includes('--markdown')) {
  const readme = here('../README.md');
  const text = readFileSync(readme, 'utf8');
  const [start, end] = MARKERS.map((marker) => text.indexOf(marker));
  if (start < 0 || end < start) throw new Error(`README.md lacks ${MARKERS.join(' … ')}`);
  writeFileSync(
    readme,
    `${text.slice(0, start + MARKERS[0].length)}\n${output}\n${text.slice(end)}`,
  );
  console.log('\nWrote the table into README.md.');
}
