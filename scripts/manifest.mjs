// The published package.json runs nothing when installed: `prepare`, which builds a clone on
// `npm install`, is taken out while npm packs (`prepack`) and put back after (`postpack`).
//   node scripts/manifest.mjs strip | restore
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const manifest = 'package.json';
const kept = 'package.json.unpacked';
const [step] = process.argv.slice(2);
if (step === 'strip') {
  const text = readFileSync(manifest, 'utf8');
  // A pack that failed before `postpack` left the original kept: keep it, not the stripped one.
  if (!existsSync(kept)) writeFileSync(kept, text);
  const data = JSON.parse(text);
  delete data.scripts.prepare;
  writeFileSync(manifest, `${JSON.stringify(data, null, 2)}\n`);
} else if (step === 'restore') {
  if (existsSync(kept)) renameSync(kept, manifest);
} else {
  console.error('usage: node scripts/manifest.mjs strip|restore');
  process.exit(2);
}
