// Builds dist/ from a clean slate: the library (dist/index.js), the command (dist/cli.js) and GPU
// detection and a watch's comparisons, loaded on first use (dist/deviceDetect.js, dist/changes.js),
// each bundled into one file; beside them tsc's declarations, one per source module, which
// dist/index.d.ts re-exports export by export. Then marks the command executable: `npx
// nlsq-memory` runs dist/cli.js through a link, which needs the executable bit.
import { execFileSync } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { bundle, LAZY } from './bundle.mjs';

const path = (relative) => fileURLToPath(new URL(relative, import.meta.url));
const root = path('..');
rmSync(path('../dist'), { recursive: true, force: true });
await bundle(path('../src/index.ts'), path('../dist/index.js'));
await bundle(path('../src/cli/main.ts'), path('../dist/cli.js'));
for (const [name, source] of Object.entries(LAZY)) {
  await bundle(path(`../${source}`), path(`../dist/${name}.js`));
}
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--emitDeclarationOnly'], {
  cwd: root,
  stdio: 'inherit',
});
chmodSync(path('../dist/cli.js'), 0o755);
