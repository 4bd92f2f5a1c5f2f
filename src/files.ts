import type * as Fs from 'node:fs';
import { createRequire } from 'node:module';

// Required, not imported: a CommonJS builtin loads without the cost of an ES module facade (see bench/).
const require = createRequire(import.meta.url);
const { readFileSync } = require('node:fs') as typeof Fs;

/** Reads a file as text, or `undefined` when it cannot be read. */
export function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
