/** The flag of each option an error of the API can name: errors speak of what the user typed. */
const FLAG_OF: Readonly<Record<string, string>> = {
  nPoints: '--points',
  nParams: '--params',
  memoryFraction: '--fraction',
  totalMemoryBytes: '--total-memory-gb',
  basis: '--basis',
  device: '--device',
  workers: '--workers',
  alignTo: '--align',
  maxChunkPoints: '--max-chunk',
  minChunkPoints: '--min-chunk',
  intervalMs: '--interval',
  key: '--key',
  'calibration.key': '--key',
};

/** An option's name, quoted (`` `alignTo` ``) or, where no word could be taken for it, bare (`alignTo`). */
const NAMED = new RegExp(
  `\`([\\w.]+)\`|\\b(${Object.keys(FLAG_OF)
    .filter((name) => /[A-Z]/.test(name))
    .join('|')})\\b`,
  'g',
);

/** A message of the API, warning or error, with each option named by its flag. */
export function inFlags(message: string): string {
  return message.replace(
    NAMED,
    (said, quoted?: string, bare?: string) => FLAG_OF[quoted ?? bare ?? ''] ?? said,
  );
}

/**
 * A bad value, rejected by the command or the API, as the command says it: each option named by
 * its flag, in the words of the command's own errors (`--points must be …`), and what to do: where
 * not even one point fits the budget, what to give; else, see the help.
 */
export function forCommand(message: string): string {
  const said = inFlags(message).replace(/^Expected (--[\w-]+) to be /, '$1 must be ');
  // Past a typed array's or a buffer's cap, more memory does not help.
  if (!said.startsWith('Not even') || said.endsWith('elements)')) return `${said} (see --help)`;
  const fewer = / per worker\b/.test(said) ? 'fewer workers, or ' : '';
  return `${said}: give ${fewer}more memory (--total-memory-gb, --fraction)`;
}
