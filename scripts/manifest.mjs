// The published package.json runs nothing when installed: `prepare`, which builds a clone on
// `npm install`, is taken out while npm packs (`prepack`) and put back after (`postpack`).
//   node scripts/manifest.mjs strip | restore
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const manifest = 'package.json';
const kept = 'package.json.unpacked';
const [step] = process.argv.slice(2);
if (step === 'strip') {
  const text = readFileSync(manifest, 'utf8');
  const data = JSON.parse(text);
  // A manifest without `prepare` is one a pack that failed before `postpack` stripped: the
  // original is the one kept then. Any other is the original, edited since, perhaps.
  if (data.scripts?.prepare !== undefined || !existsSync(kept)) writeFileSync(kept, text);
  delete data.scripts.prepare;
  writeFileSync(manifest, `${JSON.stringify(data, null, 2)}\n`);
} else if (step === 'restore') {
  if (existsSync(kept)) renameSync(kept, manifest);
} else {
  console.error('usage: node scripts/manifest.mjs strip|restore');
  process.exit(2);
}
