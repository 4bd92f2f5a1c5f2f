// What CI runs on the oldest Node.js the package supports (engines), where the test tools do not
// run: the built library and command, used as a user would. Exits non-zero on any difference.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const api = await import('../../dist/index.js');
const GIB = 1024 ** 3;
assert.equal(api.getAdaptiveMemoryThresholdSync({ totalMemoryBytes: 8 * GIB }).thresholdGb, 6);
assert.equal(
  api.selectNlsqStrategySync(1e8, 53, { totalMemoryBytes: 8 * GIB }).strategy,
  'out_of_core',
);
const report = await api.detectMemory();
assert.ok(report !== null && report.totalBytes > 0, 'detectMemory gives a total');
assert.ok(Array.isArray(await api.detectDeviceMemory({ env: { PATH: '' } })));
const cli = fileURLToPath(new URL('../../dist/cli.cjs', import.meta.url));
const shown = JSON.parse(
  execFileSync(
    process.execPath,
    [cli, '--json', '--total-memory-gb', '8', '--points', '1e8', '--params', '53'],
    {
      encoding: 'utf8',
    },
  ),
);
assert.equal(shown.decision.strategy, 'out_of_core');
console.log(`nlsq-memory works on Node.js ${process.version}`);
