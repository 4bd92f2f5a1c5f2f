// `npm install` in a clone builds dist/, so that `npx nlsq-memory` works at once. Packing and
// publishing do not: they ship the dist/ built before them (`npm run build`).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

if (!['pack', 'publish'].includes(process.env.npm_command ?? '')) {
  execFileSync(process.execPath, [fileURLToPath(new URL('./build.mjs', import.meta.url))], {
    stdio: 'inherit',
  });
}
