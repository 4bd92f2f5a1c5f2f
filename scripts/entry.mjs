// Writes the library's entry, dist/index.js: a small ES module that exports every name of the
// library, each function a stub that loads the library (`core`, CommonJS, which `require` loads
// at once, so that no synchronous function becomes asynchronous) on the first call of any. The
// constants are written out: importing the library parses this file only.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import { types } from 'node:util';

/** Whether `value` is data JSON writes back as it is: no NaN, -0, undefined, class or Map. */
function plainData(value) {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0);
  if (typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== Array.prototype) return false;
  return Object.values(value).every(plainData);
}

/** One exported value as code: a function's stub (async where the function is), or the constant. */
function exported(name, value) {
  if (typeof value === 'function') {
    if (/^class\b/.test(Function.prototype.toString.call(value))) {
      throw new Error(`cannot write ${name} into the entry: a class would lose instanceof`);
    }
    const parameters = Array.from({ length: value.length }, (_, index) => `p${index}`).join(',');
    const async = types.isAsyncFunction(value) ? 'async ' : '';
    return `export ${async}function ${name}(${parameters}){return load().${name}(...arguments)}`;
  }
  if (!plainData(value)) throw new Error(`cannot write ${name} into the entry: not plain data`);
  const literal = JSON.stringify(value);
  if (typeof value !== 'object' || value === null) return `export const ${name}=${literal};`;
  if (Object.values(value).some((member) => typeof member === 'object' && member !== null)) {
    throw new Error(`cannot write ${name} into the entry: nested data is not frozen whole`);
  }
  return `export const ${name}=${Object.isFrozen(value) ? `Object.freeze(${literal})` : literal};`;
}

/** Writes the entry `file` that loads `core` (a CommonJS file beside it) on first use. */
export function writeEntry(core, file) {
  const library = createRequire(import.meta.url)(core);
  const names = Object.keys(library).sort();
  const lines = [
    `if(typeof process.getBuiltinModule!=='function')throw new Error(\`nlsq-memory needs Node.js 20.16 or later in 20, 22.3 or later after it (process.getBuiltinModule); this is \${process.version}\`);`,
    `let core;const load=()=>core??=(()=>{try{return process.getBuiltinModule('node:module').createRequire(import.meta.url)('./${basename(core)}')}catch(error){if(error?.code!=='MODULE_NOT_FOUND')throw error;throw new Error('nlsq-memory cannot find ./${basename(core)} beside its entry: a bundler that does not take the package\\'s "module" condition left it out. Give that condition to the bundler, or leave nlsq-memory out of the bundle (esbuild: --external:nlsq-memory)',{cause:error})}})();`,
    ...names.map((name) => exported(name, library[name])),
  ];
  writeFileSync(file, `${lines.join('\n')}\n`);
}
