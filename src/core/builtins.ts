import type * as Buffer from 'node:buffer';
import type * as ChildProcess from 'node:child_process';
import type * as Fs from 'node:fs';
import type * as FsPromises from 'node:fs/promises';
import type * as Module from 'node:module';
import { createRequire } from 'node:module';
import type * as Os from 'node:os';
import type * as Path from 'node:path';
import type * as V8 from 'node:v8';

/** The builtins this library uses, by name. */
interface Builtins {
  'node:buffer': typeof Buffer;
  'node:child_process': typeof ChildProcess;
  'node:fs': typeof Fs;
  'node:fs/promises': typeof FsPromises;
  'node:module': typeof Module;
  'node:os': typeof Os;
  'node:path': typeof Path;
  'node:v8': typeof V8;
}

// `process.getBuiltinModule` (Node.js 20.16+) hands over a builtin without the ES module facade
// that each `import … from 'node:…'` builds at import, nor the cost of a first `createRequire`
// (see bench/); Node.js 20.0 to 20.15 require it, through the one builtin imported here.
const load: (id: string) => unknown =
  process.getBuiltinModule?.bind(process) ?? createRequire(import.meta.url);

/** A builtin module, as `require` gives it. Cheap: the ones used here are loaded on first use. */
export function builtin<Id extends keyof Builtins>(id: Id): Builtins[Id] {
  return load(id) as Builtins[Id];
}
