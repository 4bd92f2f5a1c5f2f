import type { Request } from './flags.js';

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
};

/**
 * An error of the API as the command says it: each option named by its flag, and where not even
 * one point fits, what to do about it.
 */
export function forCommand(message: string, request: Request | undefined): string {
  const said = message.replace(/`(\w+)`/g, (quoted, name: string) => FLAG_OF[name] ?? quoted);
  if (!said.startsWith('Not even') || request === undefined) return said;
  const workers = request.options.workers;
  const fewer = workers !== undefined && workers !== 1 ? 'fewer workers, or ' : '';
  return `${said}: give ${fewer}more memory (--total-memory-gb, --fraction)`;
}
