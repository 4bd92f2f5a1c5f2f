// The calibration file as a file: where it is, which entries it accepts, and how often it is read.
// Every store here is a temporary file; nothing reads or writes the machine's own cache.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { STRATEGIES } from '../src/core/types.js';
import { NLSQStrategy } from '../src/index.js';

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
