// The calibration file as a file: where it is, which entries it accepts, and how often it is read.
// Every store here is a temporary file; nothing reads or writes the machine's own cache.
import { readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, win32 } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { STRATEGIES } from '../src/core/types.js';
import { NLSQStrategy } from '../src/index.js';
import { storePath } from '../src/sources/calibrationFile.js';

const src = fileURLToPath(new URL('../src/', import.meta.url));

describe('the strategies a store keeps', () => {
  it('are NLSQStrategy, listed once below the policy and nowhere else', () => {
    expect(STRATEGIES).toEqual(Object.values(NLSQStrategy));
    const spelled = (readdirSync(src, { recursive: true }) as string[])
      .filter((file) => file.endsWith('.ts'))
      .filter((file) => readFileSync(join(src, file), 'utf8').includes("'hybrid_streaming'"))
      .map((file) => file.split(/[\\/]/).join('/'));
    expect(spelled.sort()).toEqual(['core/types.ts', 'policy/strategy.ts']);
  });
});

describe('where the store is', () => {
  const home = homedir();
  const linux = join(home, '.cache', 'nlsq-memory', 'calibration.json');

  it.each([
    [
      'an absolute XDG_CACHE_HOME',
      { XDG_CACHE_HOME: '/var/cache/me' },
      '/var/cache/me/nlsq-memory/calibration.json',
    ],
    ['no XDG_CACHE_HOME', {}, linux],
    ['an empty XDG_CACHE_HOME', { XDG_CACHE_HOME: '' }, linux],
    ['a relative XDG_CACHE_HOME', { XDG_CACHE_HOME: 'cache' }, linux],
    ['a dot', { XDG_CACHE_HOME: '.' }, linux],
  ])('with %s, is under it or under ~/.cache', (_, env, expected) => {
    expect(storePath(undefined, env, 'linux')).toBe(expected);
  });

  const windows = win32.join(home, 'AppData', 'Local', 'nlsq-memory', 'calibration.json');
  it.each([
    [
      'an absolute LOCALAPPDATA',
      { LOCALAPPDATA: 'C:\\Users\\me\\AppData\\Local' },
      'C:\\Users\\me\\AppData\\Local\\nlsq-memory\\calibration.json',
    ],
    ['no LOCALAPPDATA', {}, windows],
    ['an empty LOCALAPPDATA', { LOCALAPPDATA: '' }, windows],
    ['a relative LOCALAPPDATA', { LOCALAPPDATA: 'AppData\\Local' }, windows],
    ['a drive-relative LOCALAPPDATA', { LOCALAPPDATA: 'C:AppData' }, windows],
  ])('on Windows, with %s, is under it or under the profile', (_, env, expected) => {
    expect(storePath(undefined, env, 'win32')).toBe(expected);
  });

  it('is `store`, else NLSQ_MEMORY_CALIBRATION, whatever the cache', () => {
    const env = { NLSQ_MEMORY_CALIBRATION: '/data/c.json', XDG_CACHE_HOME: '' };
    expect(storePath('/mine.json', env, 'linux')).toBe('/mine.json');
    expect(storePath(undefined, env, 'linux')).toBe('/data/c.json');
  });
});
