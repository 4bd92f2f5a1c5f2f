import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { makeTree } from './helpers.js';

const script = pathToFileURL(fileURLToPath(new URL('../scripts/entry.mjs', import.meta.url))).href;

/** Writes the entry of a library whose CommonJS `core` is `code`; its text, or the build's error. */
function entryOf(code: string): string {
  const folder = makeTree({ 'core.cjs': code });
  try {
    execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { writeEntry } = await import(${JSON.stringify(script)}); writeEntry(${JSON.stringify(join(folder, 'core.cjs'))}, ${JSON.stringify(join(folder, 'index.js'))});`,
      ],
      { encoding: 'utf8', stdio: 'pipe' },
    );
    return readFileSync(join(folder, 'index.js'), 'utf8');
  } catch (error) {
    return String((error as { stderr?: string }).stderr);
  }
}

describe("the library's entry, as the build writes it", () => {
  it('stubs each function, async where it is, and writes plain constants out', () => {
    const entry = entryOf(
      'exports.sync = (a, b) => a + b; exports.later = async (a) => a; exports.N = Object.freeze({ A: "a" }); exports.X = 0.5;',
    );
    expect(entry).toContain('export function sync(p0,p1){return load().sync(...arguments)}');
    expect(entry).toContain('export async function later(p0){return load().later(...arguments)}');
    expect(entry).toContain('export const N=Object.freeze({"A":"a"});');
    expect(entry).toContain('export const X=0.5;');
  });

  it.each([
    ['exports.X = NaN;', 'not plain data'],
    ['exports.X = -0;', 'not plain data'],
    ['exports.X = new Map();', 'not plain data'],
    ['exports.X = { a: undefined };', 'not plain data'],
    ['exports.X = Object.freeze({ a: { b: 1 } });', 'nested data is not frozen whole'],
    ['exports.X = class {};', 'a class would lose instanceof'],
  ])('refuses %s', (code, why) => {
    expect(entryOf(code)).toContain(`cannot write X into the entry: ${why}`);
  });
});
