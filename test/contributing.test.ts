import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

describe('CONTRIBUTING.md', () => {
  const guide = read('CONTRIBUTING.md');

  it('maps every file of src/', () => {
    const map = guide.slice(
      guide.indexOf('## The layers of `src/`'),
      guide.indexOf('## How tests'),
    );
    const files = (
      readdirSync(new URL('../src/', import.meta.url), { recursive: true }) as string[]
    )
      .filter((file) => file.endsWith('.ts'))
      .map((file) => file.split(/[\\/]/).at(-1) ?? '');
    for (const file of files) expect(map, file).toContain(`\`${file}\``);
    const table = map.slice(0, map.indexOf('\n\n', map.indexOf('| layer')));
    const named = [...table.matchAll(/`(\w+\.ts)`/g)].map(([, file]) => file);
    expect(named.filter((file) => !files.includes(file ?? ''))).toEqual([]);
  });

  it('explains the seams for tests, adding a limit source, a device tool and a flag', () => {
    for (const seam of ['`fsRoot`', '`env`', '`probes`', '`totalMemoryBytes`']) {
      expect(guide).toContain(`- ${seam}`);
    }
    for (const section of [
      '## Run the checks',
      '## Add a limit source',
      '## Add a device tool',
      '## Add a flag to the command',
      '### One-time setup of trusted publishing',
    ]) {
      expect(guide).toContain(section);
    }
  });

  it('shows only npm scripts and files that exist', () => {
    const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    for (const [, script] of guide.matchAll(/npm run ([\w:-]+)/g)) {
      expect(Object.keys(scripts), script).toContain(script);
    }
    for (const [, path] of guide.matchAll(/`((?:\.ci|\.github|test|src)\/[\w./-]+)`/g)) {
      expect(() => read(path ?? ''), path).not.toThrow();
    }
  });
});
