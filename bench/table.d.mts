/**
 * Each figure beside its peer, measured in the same run, with the largest ratio aimed at, the
 * name of its floor's measurement, or `null`, and of what is taken off all three first, if any.
 */
export declare const TARGETS: readonly (readonly [
  name: string,
  peer: string,
  limit: number,
  floor: string | null,
  base?: string,
])[];
/** Where the table goes in the README. */
export declare const MARKERS: readonly [start: string, end: string];
export declare const HEADER: readonly string[];
export declare function formatMs(value: number): string;
export declare function rows(ms: Record<string, number>): string[][];
export declare function markdown(body: string[][]): string;
