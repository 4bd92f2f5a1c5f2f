import { type CliIo, main } from '../src/cli/main.js';
import { GIB, makeTree, meminfo, noGpu, probesWith } from './helpers.js';

// A machine of 16 GiB with 12 GiB available, in no container: no test reads the real one.
export const machine: string = makeTree({ 'proc/meminfo': meminfo(16 * GIB, 12 * GIB) });

/** What a run of the command printed, and its exit code. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the command in this process on the fake machine, collecting what it prints. */
export async function run(argv: string[], extra: Partial<CliIo> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: {},
    fsRoot: machine,
    deviceProbes: noGpu,
    probes: probesWith(16 * GIB, 16 * GIB),
    ...extra,
  });
  return { code, stdout, stderr };
}
