import { builtin } from '../core/builtins.js';

const { readFileSync } = builtin('node:fs');

/** Reads a file as text, or `undefined` when it cannot be read. */
export function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
