import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map(([, lang = '', code = '']) => ({
  lang,
  code,
}));
const scratch = fileURLToPath(new URL('./.tmp/', import.meta.url));

/** Turns `expression; // → value` lines into assertions that the expression equals the value. */
function withAssertions(code: string): { code: string; count: number } {
  let count = 0;
  const asserted = code.replace(
    /^(.+?);\s*\/\/ → (.+)$/gm,
    (_, expression: string, expected: string) => {
      count += 1;
      return `__expectEqual(${expression}, ${expected}, ${JSON.stringify(expression)});`;
    },
  );
  return { code: asserted, count };
}

describe('the README', () => {
  const typescript = blocks.filter((block) => block.lang === 'ts');

  it('has only blocks that a test runs: ts here, js in the package test, sh commands, output', () => {
    expect(
      blocks.map((block) => block.lang).filter((lang) => !['ts', 'js', 'sh', ''].includes(lang)),
    ).toEqual([]);
  });

  it('has TypeScript examples, and annotates results with // →', () => {
    expect(typescript.length).toBeGreaterThanOrEqual(2);
    expect(
      withAssertions(typescript.map((block) => block.code).join('\n')).count,
    ).toBeGreaterThanOrEqual(6);
  });

  it.each(typescript.map((block, index) => [index, block.code]))(
    'example %d runs and its results hold',
    async (index, source) => {
      vi.stubEnv('NLSQ_MEMORY_FRACTION', undefined);
      const { code } = withAssertions(source);
      const checks: [unknown, unknown, string][] = [];
      Object.assign(globalThis, {
        __expectEqual: (actual: unknown, expected: unknown, what: string) =>
          checks.push([actual, expected, what]),
      });
      const printed: string[] = [];
      vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
        printed.push(args.join(' '));
      });
      mkdirSync(scratch, { recursive: true });
      const file = `${scratch}readme-${index}.ts`;
      writeFileSync(file, code);
      await import(/* @vite-ignore */ file);
      for (const [actual, expected, what] of checks) expect(actual, what).toEqual(expected);
      expect(printed.join('\n')).not.toMatch(/NaN|undefined/);
      vi.restoreAllMocks();
    },
  );

  it('uses only commands of the command that work', async () => {
    const commands = blocks
      .filter((block) => block.lang === 'sh')
      .flatMap((block) => block.code.split('\n'))
      .map((line) => line.replace(/^DEBUG=\S+ /, '').replace(/^npm install && /, ''))
      .filter((line) => line.startsWith('npx nlsq-memory'));
    expect(commands.length).toBeGreaterThanOrEqual(4);
    for (const command of commands) {
      let stdout = '';
      const code = await main(command.split(' ').slice(2), {
        stdout: (text) => (stdout += text),
        stderr: () => {},
        env: {},
      });
      expect(code, command).toBe(0);
      expect(stdout, command).not.toMatch(/NaN/);
    }
  });

  it('names every warning code the library can emit', () => {
    const source = readFileSync(new URL('../src/diagnostics.ts', import.meta.url), 'utf8');
    const codes = [...source.matchAll(/'(NLSQ_[A-Z_]+)'/g)].map(([, code]) => code);
    expect(codes.length).toBe(4);
    for (const code of codes) expect(readme).toMatch(new RegExp(`\\| \`${code}\` +\\|`));
  });
});
