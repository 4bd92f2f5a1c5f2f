// How dist/ bundles an entry of src/: into one ES module file, since on Node.js 20 each module
// loaded costs more at import than its code does (see bench/). Builtins, systeminformation and
// debug stay outside: the library loads them when first needed.
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Bundles the source module `input` into the self-contained ES module `file` (both paths). Local
 * names are shortened, since that alone makes the import about a third cheaper on Node.js 20;
 * exported names (so the `name` of exported functions), messages and line breaks are kept. No
 * comment, no source map.
 */
export async function bundle(input, file) {
  const options = (minify) => ({
    cwd: root,
    input,
    platform: 'node',
    // GPU detection is its own file, loaded on first use: importing the library does not parse it.
    external: [/^node:/, 'systeminformation', 'debug', /\/deviceDetect\.js$/],
    logLevel: 'warn',
    output: {
      dir: dirname(file),
      entryFileNames: basename(file),
      codeSplitting: false,
      // dist/deviceDetect.js sits beside every entry, whatever folder of src/ imports it.
      paths: (id) => (id.endsWith('/deviceDetect.js') ? './deviceDetect.js' : id),
      format: 'esm',
      comments: false,
      minify,
    },
  });
  const { output } = await build({ ...options(false), write: false });
  const exported = output.flatMap((chunk) => (chunk.type === 'chunk' ? chunk.exports : []));
  const mangle = { toplevel: true, reserved: exported };
  await build(options({ compress: false, mangle, codegen: { removeWhitespace: false } }));
}
