// What bench/run.mjs measures against what, and how it writes the table: the README's
// performance table is this output (`npm run bench -- --markdown`), and a test checks that its
// rows are these.

/**
 * Each figure beside its peer, measured in the same run, with the largest ratio aimed at, the
 * floor: the same work done by a minimal module (bench/floor/), against the same peer, and what
 * is taken off all three before the ratio, where anything is: an import's cost above what any
 * package's costs.
 */
export const TARGETS = [
  [
    'import nlsq-memory',
    'import systeminformation',
    0.03,
    'import a minimal package',
    'import an empty package',
  ],
  ['import + first detectMemory()', 'import systeminformation + first mem()', 1.15, null],
  ['import + first detectMemorySync()', 'import systeminformation + first mem()', 1.15, null],
  [
    'nlsq-memory --json (the command)',
    'node -e 0',
    1.35,
    'a minimal CommonJS program, the same files',
  ],
  ['nlsq-memory --json (the command)', 'a script: import systeminformation, mem()', 1.2, null],
  ['getAdaptiveMemoryThreshold() (warm)', 'systeminformation mem() (warm)', 0.05, null],
  ['selectNlsqStrategy(1e8, 53) (warm)', 'systeminformation mem() (warm)', 0.05, null],
  ['getAdaptiveMemoryThresholdSync() (warm)', 'os.totalmem()', 1, null],
  ['detectMemorySync({ refresh: true })', 'os.totalmem()', 14, 'the same reads, minimal'],
  ['getAdaptiveMemoryThresholdSync({ refresh: true })', 'os.totalmem()', 14, null],
  ['watchMemory: one poll', 'os.totalmem()', 16, "a poll's reads, minimal"],
  ['decideNlsqStrategy(1e8, 53, 24)', 'os.totalmem()', 0.1, null],
];

/** Where the table goes in the README. */
export const MARKERS = ['<!-- bench:start -->', '<!-- bench:end -->'];

export const HEADER = ['measurement', 'median', 'peer', 'peer median', 'ratio', 'floor', 'target'];
const RIGHT = new Set(['median', 'peer median', 'ratio', 'floor', 'target']);

/** Milliseconds as the table shows them: ms from 1 ms, µs below. */
export const formatMs = (value) =>
  value >= 1 ? `${value.toFixed(2)} ms` : `${(value * 1000).toFixed(2)} µs`;

/** The rows of the table, from the medians by name (ms). */
export function rows(ms) {
  return TARGETS.map(([name, peer, limit, floor, base = null]) => {
    const above = (figure) => ms[figure] - (base === null ? 0 : ms[base]);
    const ratio = above(name) / above(peer);
    return [
      name,
      formatMs(ms[name]),
      peer,
      formatMs(ms[peer]),
      ratio.toFixed(3),
      floor === null ? '' : (above(floor) / above(peer)).toFixed(3),
      `≤ ${limit} ${ratio <= limit ? 'met' : 'MISSED'}`,
    ];
  });
}

/** A Markdown table, its columns aligned. */
export function markdown(body) {
  const widths = HEADER.map((title, column) =>
    Math.max(title.length, 3, ...body.map((row) => row[column].length)),
  );
  const line = (cells) =>
    `| ${cells
      .map((cell, column) =>
        RIGHT.has(HEADER[column]) ? cell.padStart(widths[column]) : cell.padEnd(widths[column]),
      )
      .join(' | ')} |`;
  const rule = `| ${widths
    .map((width, column) =>
      RIGHT.has(HEADER[column]) ? `${'-'.repeat(width - 1)}:` : '-'.repeat(width),
    )
    .join(' | ')} |`;
  return [line(HEADER), rule, ...body.map(line)].join('\n');
}
