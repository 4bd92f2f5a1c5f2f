import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from './cliRun.js';
import { makeBin, writeScript } from './helpers.js';

const posix = it.skipIf(process.platform === 'win32');

/** A PATH with only a fake nvidia-smi that lists two 80 GB GPUs, the second half used. */
function twoGpus(): Record<string, string> {
  const bin = makeBin();
  writeScript(
    join(bin, 'nvidia-smi'),
    `cat <<'EOF'
0, GPU-aaaa0000-0000-4000-8000-000000000000, NVIDIA H100 80GB HBM3, 81920, 81000, Disabled
1, GPU-bbbb0000-0000-4000-8000-000000000000, NVIDIA H100 80GB HBM3, 81920, 40960, Disabled
EOF`,
  );
  return { PATH: bin };
}

describe('nlsq-memory and GPUs', () => {
  it('says when there is no GPU', async () => {
    const { stdout } = await run([]);
    expect(stdout).toContain('\nGPUs           none\n');
  });

  posix('lists the visible GPUs with their memory, and in --json', async () => {
    const env = twoGpus();
    const { code, stdout } = await run([], { env });
    expect(code).toBe(0);
    expect(stdout).toContain(
      '\nGPU 0          NVIDIA H100 80GB HBM3: 80.00 GB, 79.10 GB free (nvidia-smi)\n' +
        'GPU 1          NVIDIA H100 80GB HBM3: 80.00 GB, 40.00 GB free (nvidia-smi)\n',
    );
    const hidden = await run(['--json'], { env: { ...env, CUDA_VISIBLE_DEVICES: '1' } });
    expect(JSON.parse(hidden.stdout).devices).toMatchObject([
      { index: 0, uuid: 'GPU-bbbb0000-0000-4000-8000-000000000000', totalBytes: 80 * 1024 ** 3 },
    ]);
  });

  posix('decides for --device N against its memory', async () => {
    const env = twoGpus();
    const { code, stdout } = await run(['--points', '5e7', '--params', '53', '--device', '1'], {
      env,
    });
    expect(code).toBe(0);
    expect(stdout).toContain('Threshold      60.00 GB (75% of 80.00 GB total');
    expect(stdout).toContain('Reason         Peak memory (128.34 GB) exceeds threshold (60.00 GB)');
    const available = await run(['--device', '1', '--basis', 'available', '--json'], { env });
    expect(JSON.parse(available.stdout).threshold).toMatchObject({
      thresholdGb: 30,
      info: { basis: 'available', detectionMethod: 'nvidia-smi', limitSource: null },
    });
  });

  posix('exits 2 naming the visible GPUs for a device that is not there', async () => {
    const { code, stdout, stderr } = await run(['--device', '2'], { env: twoGpus() });
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toMatch(
      /^nlsq-memory: --device must be the index of a visible GPU, got 2; visible: 0 \(NVIDIA H100 80GB HBM3, 80\.00 GB\), 1 /,
    );
    expect((await run(['--device', '0'])).stderr).toContain('no GPU is visible');
  });
});
