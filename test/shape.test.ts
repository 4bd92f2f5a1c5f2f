// The shape of src/: layers that run one way, no import circle (type imports count), small files
// with one job, no back door. CONTRIBUTING.md "The layers of src/" explains it.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('../src/', import.meta.url));

/** Each layer's rank: a file imports only from lower ranks, or from its own folder. */
const RANKS: Record<string, number> = {
  'index.ts': 7,
  cli: 6,
  watch: 5,
  answer: 4,
  policy: 3,
  detect: 3,
  sources: 2,
  core: 1,
};

function files(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? files(join(directory, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(directory, entry.name)]
        : [],
  );
}

const sources = files(src).map((file) => relative(src, file));
const text = Object.fromEntries(
  sources.map((file) => [file, readFileSync(join(src, file), 'utf8')]),
);

/** The specifiers a file imports: static, type-only, re-exported and dynamic. */
function specifiers(code: string): string[] {
  const found = [
    ...code.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'([^']+)'/gms),
    ...code.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
  ].map(([, specifier = '']) => specifier);
  return [...new Set(found)];
}

/** The files of src/ a file imports, as paths relative to src/ with `.ts`. */
const edges = Object.fromEntries(
  sources.map((file) => [
    file,
    specifiers(text[file] ?? '')
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) => join(dirname(file), specifier).replace(/\.js$/, '.ts')),
  ]),
);

const layerOf = (file: string): string => (file.includes('/') ? (file.split('/')[0] ?? '') : file);

describe('the shape of src/', () => {
  it('has every import resolve to a file of src/', () => {
    for (const [file, targets] of Object.entries(edges)) {
      for (const target of targets) expect(sources, `${file} imports ${target}`).toContain(target);
    }
  });

  it('puts every file in a known layer', () => {
    expect(sources.map(layerOf).filter((layer) => RANKS[layer] === undefined)).toEqual([]);
  });

  it('has layers that run one way: no import from a layer above or beside', () => {
    const wrong: string[] = [];
    for (const [file, targets] of Object.entries(edges)) {
      for (const target of targets) {
        const [from, to] = [layerOf(file), layerOf(target)];
        if (from !== to && (RANKS[to] ?? 0) >= (RANKS[from] ?? 0))
          wrong.push(`${file} -> ${target}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('has no import circle, type imports included', () => {
    const state = new Map<string, 'open' | 'done'>();
    const circles: string[] = [];
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        circles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const target of edges[file] ?? []) visit(target, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of sources) visit(file, []);
    expect(circles).toEqual([]);
  });

  it('keeps every file under 300 lines, with no @internal back door', () => {
    const long = sources.filter((file) => (text[file] ?? '').split('\n').length > 300);
    expect(long).toEqual([]);
    expect(sources.filter((file) => text[file]?.includes('@internal'))).toEqual([]);
  });

  it('keeps policy pure: no Node.js module, no I/O, no environment read', () => {
    for (const file of sources.filter((name) => name.startsWith('policy/'))) {
      const code = text[file] ?? '';
      expect(
        specifiers(code).filter((specifier) => !specifier.startsWith('.')),
        file,
      ).toEqual([]);
      expect(code, file).not.toMatch(/\bbuiltin\(|process\.env|readFileSync|import\(/);
    }
  });

  it('has index.ts re-export the public API and nothing else', () => {
    const index = (text['index.ts'] ?? '').replace(/\/\/.*$/gm, '');
    expect(index.trim()).toMatch(/^(export (type )?\{[^}]*\} from '[^']+';\s*)+$/);
  });
});
