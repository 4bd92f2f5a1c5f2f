// Writes the library's entry, dist/index.js: a small ES module that exports every name of the
// library, each function a stub that loads the library (`core`, CommonJS, which `require` loads
// at once, so that no synchronous function becomes asynchronous) on the first call of any. The
// constants are written out: importing the library parses this file only.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename } from 'node:path';

/** One exported value as code: a function's stub, or the constant itself. */
function exported(name, value) {
  if (typeof value === 'function') {
    const parameters = Array.from({ length: value.length }, (_, index) => `p${index}`).join(',');
    return `export function ${name}(${parameters}){return load().${name}(...arguments)}`;
  }
  const literal = JSON.stringify(value);
  if (JSON.stringify(JSON.parse(literal)) !== JSON.stringify(value) || literal === undefined) {
    throw new Error(`cannot write ${name} into the entry: it is not plain data`);
  }
  return `export const ${name}=${Object.isFrozen(value) && typeof value === 'object' ? `Object.freeze(${literal})` : literal};`;
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
