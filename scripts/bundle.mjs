// How dist/ bundles an entry of src/: into one ES module file, since on Node.js 20 each module
// loaded costs more at import than its code does (see bench/). Builtins, systeminformation and
// debug stay outside: the library loads them when first needed.
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * The files of src/ loaded on first use, each bundled apart into dist/<name>.js: GPU detection,
 * what a watch compares between polls, and recording what fits taught. Importing the library
 * parses none of them. The state they share with the library (which warnings were emitted) is
 * kept on the global object.
 */
export const LAZY = {
  deviceDetect: 'src/detect/deviceDetect.ts',
  changes: 'src/watch/changes.ts',
  recording: 'src/answer/recording.ts',
};
const lazy = new RegExp(`/(${Object.keys(LAZY).join('|')})\\.js$`);

/**
 * Bundles the source module `input` into the self-contained ES module `file` (both paths). Local
 * names are shortened, since that alone makes the import about a third cheaper on Node.js 20, and
 * white space is left out (a tenth cheaper again); exported names (so the `name` of exported
 * functions) and messages are kept. No comment, no source map.
 */
export async function bundle(input, file) {
  const options = (minify) => ({
    cwd: root,
    input,
    platform: 'node',
    external: [/^node:/, 'systeminformation', 'debug', lazy],
    logLevel: 'warn',
    output: {
      dir: dirname(file),
      entryFileNames: basename(file),
      codeSplitting: false,
      // A lazy file sits beside every entry in dist/, whatever folder of src/ imports it.
      paths: (id) => (lazy.test(id) ? `./${lazy.exec(id)?.[1]}.js` : id),
      format: 'esm',
      comments: false,
      minify,
    },
  });
  const { output } = await build({ ...options(false), write: false });
  const exported = output.flatMap((chunk) => (chunk.type === 'chunk' ? chunk.exports : []));
  const mangle = { toplevel: true, reserved: exported };
  await build(options({ compress: false, mangle, codegen: { removeWhitespace: true } }));
}
