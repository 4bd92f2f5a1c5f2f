// How dist/ bundles an entry of src/: into one CommonJS file, which `require` loads at once and
// without the ES module loader, since on Node.js 20 each module loaded costs more than its code
// does (see bench/). Builtins, systeminformation and debug stay outside: the library loads them
// when first needed. The library's ES module entry is written apart (scripts/entry.mjs).
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * The files of src/ the library loads on first use where its API is asynchronous, each bundled
 * apart into dist/<name>.cjs: GPU detection, what a watch compares between polls, and recording
 * what fits taught. The state they share with the library (which warnings were emitted) is kept
 * on the global object.
 */
export const LAZY = {
  deviceDetect: 'src/detect/deviceDetect.ts',
  changes: 'src/watch/changes.ts',
  recording: 'src/answer/recording.ts',
};
const lazy = new RegExp(`/(${Object.keys(LAZY).join('|')})\\.js$`);

/**
 * Bundles the source module `input` into the self-contained CommonJS file `file` (both paths).
 * The files of {@link LAZY} stay apart, each loaded by `require` where `import()` loads it in
 * the source. With `forBundlers`, one ES module file instead, the files of {@link LAZY} in it,
 * and systeminformation loaded with `import()`: what a bundler can follow. Local names are shortened, since that alone makes loading about a third cheaper on
 * Node.js 20, white space is left out (a tenth cheaper again), and the code is compressed (2%
 * smaller with brotli); exported names (so the `name` of exported functions) and messages are kept. No comment, no
 * source map.
 */
export async function bundle(input, file, { forBundlers = false } = {}) {
  const options = (minify) => ({
    cwd: root,
    input,
    platform: 'node',
    external: [/^node:/, /^systeminformation(\/|$)/, 'debug', ...(forBundlers ? [] : [lazy])],
    logLevel: 'warn',
    output: {
      dir: dirname(file),
      entryFileNames: basename(file),
      codeSplitting: false,
      // A lazy file sits beside every entry in dist/, whatever folder of src/ imports it.
      paths: (id) => (lazy.test(id) ? `./${lazy.exec(id)?.[1]}.cjs` : id),
      format: forBundlers ? 'esm' : 'cjs',
      dynamicImportInCjs: false,
      comments: false,
      minify,
    },
  });
  const { output } = await build({ ...options(false), write: false });
  const exported = output.flatMap((chunk) => (chunk.type === 'chunk' ? chunk.exports : []));
  const mangle = { toplevel: true, reserved: exported };
  await build(options({ compress: true, mangle, codegen: { removeWhitespace: true } }));
}
