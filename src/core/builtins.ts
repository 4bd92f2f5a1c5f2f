import type * as Buffer from 'node:buffer';
import type * as ChildProcess from 'node:child_process';
import type * as Fs from 'node:fs';
import type * as FsPromises from 'node:fs/promises';
import type * as Module from 'node:module';
import type * as Os from 'node:os';
import type * as Path from 'node:path';
import type * as Tty from 'node:tty';
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
  'node:tty': typeof Tty;
  'node:v8': typeof V8;
}

/**
 * A builtin module, as `require` gives it. `process.getBuiltinModule` (Node.js 20.16+, 22.3+) hands it
 * over without the ES module facade that each `import … from 'node:…'` builds at import, about
 * 0.4 ms each (see bench/); the ones used here are loaded on first use.
 */
export function builtin<Id extends keyof Builtins>(id: Id): Builtins[Id] {
  return process.getBuiltinModule(id) as unknown as Builtins[Id];
}

let packageRequire: NodeJS.Require | undefined;

/**
 * A dependency (`debug`, a file of `systeminformation`), loaded as `require` loads it: at once,
 * and without starting the ES module loader, which the command does not otherwise need.
 */
export function requirePackage(id: string): unknown {
  packageRequire ??= builtin('node:module').createRequire(import.meta.url);
  return packageRequire(id);
}
