// Builds dist/ from a clean slate: the library's entry (dist/index.js), a small ES module that
// loads the library (dist/core.cjs) on first use; GPU detection, a watch's comparisons and
// recording, loaded on first use of the APIs that need them (dist/deviceDetect.cjs,
// dist/changes.cjs, dist/recording.cjs); and the command (dist/cli.cjs), which starts as a small
// CommonJS program; and for bundlers, which cannot follow the entry's require, the library as
// one ES module (dist/bundle.js). Beside them tsc's declarations, one per source module, which dist/index.d.ts
// re-exports export by export. Then marks the command executable: `npx nlsq-memory` runs it
// through a link, which needs the executable bit.
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
// Before anything of the command runs: an older Node.js gets one line, not a stack.
const command = readFileSync(path('../dist/cli.cjs'), 'utf8');
const newline = command.indexOf('\n') + 1;
writeFileSync(
  path('../dist/cli.cjs'),
  `${command.slice(0, newline)}if(typeof process.getBuiltinModule!=='function'){process.stderr.write(\`nlsq-memory: needs Node.js 20.16 or later in 20, 22.3 or later after it; this is \${process.version}\\n\`);process.exit(1)}\n${command.slice(newline)}`,
);
// What bundlers take (the package's `module` condition): the library as one ES module, eager.
await bundle(path('../src/index.ts'), path('../dist/bundle.js'), { forBundlers: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--emitDeclarationOnly'], {
  cwd: root,
  stdio: 'inherit',
});
chmodSync(path('../dist/cli.cjs'), 0o755);
