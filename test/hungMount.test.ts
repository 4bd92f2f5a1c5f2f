// A PATH entry on a hung network mount, made real: a preloaded library makes every stat() and
// access() of a path under `/hung` block for good in any process that has it, as a hard NFS
// mount whose server is gone does, and shows the process a mount table (FAKE_MOUNTINFO) in which
// that folder is an NFS mount. Needs Linux and a C compiler; skipped where either is missing.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { makeBin, makeTree } from './helpers.js';

const HOOKS = `#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/stat.h>
static void block_if_hung(const char *path) {
  if (path != NULL && strstr(path, "/hung") != NULL) for (;;) pause();
}
static const char *mounts(const char *path) {
  const char *fake = getenv("FAKE_MOUNTINFO");
  return fake != NULL && path != NULL && strcmp(path, "/proc/self/mountinfo") == 0 ? fake : path;
}
#define OPEN(name, params, args) \
  int name params { \
    mode_t mode = 0; \
    if (flags & O_CREAT) { va_list list; va_start(list, flags); mode = va_arg(list, int); va_end(list); } \
    block_if_hung(p); \
    int (*real) params = dlsym(RTLD_NEXT, #name); \
    return real args; \
  }
OPEN(open, (const char *p, int flags, ...), (mounts(p), flags, mode))
OPEN(open64, (const char *p, int flags, ...), (mounts(p), flags, mode))
OPEN(openat, (int d, const char *p, int flags, ...), (d, mounts(p), flags, mode))
OPEN(openat64, (int d, const char *p, int flags, ...), (d, mounts(p), flags, mode))
#define HOOK(ret, name, params, args, path) \\
  ret name params { block_if_hung(path); ret (*real) params = dlsym(RTLD_NEXT, #name); return real args; }
HOOK(int, stat, (const char *p, struct stat *s), (p, s), p)
HOOK(int, stat64, (const char *p, struct stat64 *s), (p, s), p)
HOOK(int, lstat, (const char *p, struct stat *s), (p, s), p)
HOOK(int, fstatat, (int d, const char *p, struct stat *s, int f), (d, p, s, f), p)
HOOK(int, fstatat64, (int d, const char *p, struct stat64 *s, int f), (d, p, s, f), p)
HOOK(int, access, (const char *p, int m), (p, m), p)
HOOK(int, faccessat, (int d, const char *p, int m, int f), (d, p, m, f), p)
HOOK(int, eaccess, (const char *p, int m), (p, m), p)
`;

const compiler = process.platform === 'linux' ? spawnSync('cc', ['--version']).status === 0 : false;
const dist = pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href;
const bin = fileURLToPath(new URL('../dist/cli.cjs', import.meta.url));

/** Builds the preloaded library; returns its path. */
function buildHooks(): string {
  const folder = makeTree({ 'hooks.c': HOOKS });
  const library = join(folder, 'hooks.so');
  execFileSync('cc', ['-shared', '-fPIC', '-o', library, join(folder, 'hooks.c'), '-ldl']);
  return library;
}

/**
 * This process's mount table with `hung` as an NFS mount, in a file for FAKE_MOUNTINFO: the
 * library looks at local file systems itself, and only at the others from a child.
 */
function mountedOverNfs(hung: string): string {
  const line = `999 1 0:999 / ${hung} rw,relatime - nfs4 server:/export rw,hard`;
  const file = join(makeTree({}), 'mountinfo');
  writeFileSync(file, `${readFileSync('/proc/self/mountinfo', 'utf8')}${line}\n`);
  return file;
}

/** Runs `args` with the hooks preloaded; resolves with its output, or `'hung'` after `ms`. */
function runHooked(
  args: string[],
  env: NodeJS.ProcessEnv,
  ms: number,
): Promise<{ code: number | null; stdout: string; stderr: string } | 'hung'> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('hung');
    }, ms);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe.skipIf(!compiler)('a PATH entry on a hung mount', () => {
  const nvidiaSmi =
    'echo "0, GPU-5d3c0f6a-7b2e-4c1d-9a8f-0123456789ab, NVIDIA T4, 15360, 15000, Disabled"';

  it('costs one time budget per detection, and leaves the process free to read files and exit', async () => {
    const library = buildHooks();
    const hung = join(makeTree({}), 'hung');
    const tools = makeBin({ 'rocm-smi': 'exit 1' });
    // The first PATH entry hangs: nvidia-smi, behind it, cannot be found in time.
    const script = join(makeTree({}), 'detect.mjs');
    writeFileSync(
      script,
      `import { readFile } from 'node:fs/promises';
      const { detectDeviceMemory } = await import(${JSON.stringify(dist)});
      const env = { ...process.env, PATH: ${JSON.stringify(`${hung}:${tools}`)} };
      for (let run = 0; run < 3; run++) {
        const devices = await detectDeviceMemory({ env, timeoutMs: 300, refresh: true });
        console.log('devices', devices.length);
      }
      console.log('read', (await readFile(${JSON.stringify(script)}, 'utf8')).length > 0);`,
    );
    const result = await runHooked(
      [script],
      { ...process.env, LD_PRELOAD: library, FAKE_MOUNTINFO: mountedOverNfs(hung) },
      20_000,
    );
    expect(result).not.toBe('hung');
    if (result === 'hung') return;
    expect(result.stdout).toBe('devices 0\ndevices 0\ndevices 0\nread true\n');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('[NLSQ_MEMORY_DEVICE_TIMEOUT]');
  });

  /** The command, run with its flags, a hung NFS folder and a working nvidia-smi on PATH, in `order`. */
  async function command(flags: string[], order: 'hung first' | 'hung last') {
    const hung = join(makeTree({}), 'hung');
    const tools = makeBin({ 'nvidia-smi': nvidiaSmi });
    const env = {
      ...process.env,
      LD_PRELOAD: buildHooks(),
      FAKE_MOUNTINFO: mountedOverNfs(hung),
      PATH: order === 'hung first' ? `${hung}:${tools}` : `${tools}:${hung}`,
    };
    const result = await runHooked([bin, ...flags], env, 20_000);
    if (result === 'hung') throw new Error('the command hung');
    expect(result.code).toBe(0);
    return result;
  }

  it('finds the tool when the hung entry comes after it', async () => {
    const { stdout } = await command(['--json'], 'hung last');
    const devices = JSON.parse(stdout).devices as { name: string }[];
    expect(devices.map((device) => device.name)).toEqual(['NVIDIA T4']);
  });

  it('ends the command, which reports no GPU with a warning, in one time budget', async () => {
    const { stdout, stderr } = await command([], 'hung first');
    expect(stdout).toMatch(/^GPUs +none$/m);
    expect(stderr).toContain(
      'finding nvidia-smi on PATH and finding rocm-smi on PATH gave no answer within its time budget, 5000 ms: no GPU is listed, though one may be there; a PATH folder is on a mount that does not answer',
    );
  });
});
