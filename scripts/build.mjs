// Builds dist/ from a clean slate: the library's entry (dist/index.js), a small ES module that
// loads the library (dist/core.cjs) on first use; GPU detection, a watch's comparisons and
// recording, loaded on first use of the APIs that need them (dist/deviceDetect.cjs,
// dist/changes.cjs, dist/recording.cjs); and the command (dist/cli.cjs), which starts as a small
// CommonJS program. Beside them tsc's declarations, one per source module, which dist/index.d.ts
// re-exports export by export. Then marks the command executable: `npx nlsq-memory` runs it
// through a link, which needs the executable bit.
import { execFileSync } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { bundle, LAZY } from './bundle.mjs';
import { writeEntry } from './entry.mjs';

const path = (relative) => fileURLToPath(new URL(relative, import.meta.url));
const root = path('..');
rmSync(path('../dist'), { recursive: true, force: true });
await bundle(path('../src/index.ts'), path('../dist/core.cjs'));
writeEntry(path('../dist/core.cjs'), path('../dist/index.js'));
for (const [name, source] of Object.entries(LAZY)) {
  await bundle(path(`../${source}`), path(`../dist/${name}.cjs`));
}
await bundle(path('../src/cli/bin.ts'), path('../dist/cli.cjs'));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--emitDeclarationOnly'], {
  cwd: root,
  stdio: 'inherit',
});
chmodSync(path('../dist/cli.cjs'), 0o755);
