import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

/** Builds dist/ once, for the tests that run the package as it ships. */
export default function setup(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
