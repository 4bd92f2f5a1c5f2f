// Real kernel limits for tests: a child memory cgroup below this process's own, made and removed
// by the test. Nothing else is touched: not this process's cgroup, not a process the test did not
// start. Where that is not possible (not Linux, not root, no writable memory controller), the
// reason is returned instead, and the tests that need it skip and say why.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';

/** A memory cgroup this test made, with the processes it started in it. */
export interface KernelCgroup {
  version: 'v1' | 'v2';
  directory: string;
  /** Sets its hard limit (`memory.limit_in_bytes` on v1, `memory.max` on v2). */
  setLimit(bytes: number): void;
  /** Starts `node args…` inside it; the process is killed by `remove()`. */
  node(args: string[]): ChildProcess;
  /** Kills what was started, by pid, and removes the cgroup. */
  remove(): Promise<void>;
}

/** The directory of this process's memory cgroup and its version, or why there is none. */
function ownMemoryCgroup(): { directory: string; version: 'v1' | 'v2' } | string {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not root: a child cgroup cannot be made';
  const cgroups = readFileSync('/proc/self/cgroup', 'utf8').split('\n');
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  const mountOf = (test: (type: string, options: string[]) => boolean) => {
    for (const line of mounts) {
      const [before, after = ''] = line.split(' - ');
      const fields = before?.split(' ') ?? [];
      const [type = '', , options = ''] = after.split(' ');
      if (test(type, options.split(','))) return { root: fields[3] ?? '/', point: fields[4] ?? '' };
    }
    return undefined;
  };
  for (const line of cgroups) {
    const [id, controllers, ...rest] = line.split(':');
    const path = rest.join(':');
    if (controllers?.split(',').includes('memory')) {
      const mount = mountOf((type, options) => type === 'cgroup' && options.includes('memory'));
      if (mount !== undefined) {
        return { version: 'v1', directory: join(mount.point, posix.relative(mount.root, path)) };
      }
    }
    if (id === '0' && controllers === '') {
      const mount = mountOf((type) => type === 'cgroup2');
      if (mount === undefined) continue;
      const directory = join(mount.point, posix.relative(mount.root, path));
      const control = join(directory, 'cgroup.subtree_control');
      if (existsSync(control) && readFileSync(control, 'utf8').split(/\s+/).includes('memory')) {
        return { version: 'v2', directory };
      }
    }
  }
  return 'no memory cgroup with the memory controller delegated to its children';
}

/** Makes a child memory cgroup limited to `limitBytes`, or says why it cannot. */
export function childCgroup(limitBytes: number): KernelCgroup | string {
  const own = ownMemoryCgroup();
  if (typeof own === 'string') return own;
  const directory = join(own.directory, `nlsq-memory-test-${process.pid}-${Date.now()}`);
  try {
    mkdirSync(directory);
  } catch (error) {
    return `cannot make a child cgroup in ${own.directory}: ${(error as Error).message}`;
  }
  const started: ChildProcess[] = [];
  const cgroup: KernelCgroup = {
    version: own.version,
    directory,
    setLimit: (bytes) =>
      writeFileSync(
        join(directory, own.version === 'v1' ? 'memory.limit_in_bytes' : 'memory.max'),
        String(bytes),
      ),
    node: (args) => {
      const quoted = [process.execPath, ...args].map((arg) => `'${arg.replaceAll("'", "'\\''")}'`);
      const child = spawn(
        'sh',
        ['-c', `echo $$ > '${join(directory, 'cgroup.procs')}' && exec ${quoted.join(' ')}`],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      started.push(child);
      return child;
    },
    remove: async () => {
      for (const child of started) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      await Promise.all(
        started.map((child) =>
          child.exitCode === null && child.signalCode === null
            ? new Promise((resolve) => child.once('close', resolve))
            : undefined,
        ),
      );
      for (let attempt = 0; ; attempt++) {
        try {
          rmdirSync(directory);
          return;
        } catch (error) {
          if (attempt >= 50) throw error;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    },
  };
  try {
    cgroup.setLimit(limitBytes);
  } catch (error) {
    rmdirSync(directory);
    return `cannot limit a child cgroup: ${(error as Error).message}`;
  }
  return cgroup;
}

/** Lines a child prints, as they come; `next(test)` waits for the first one that passes `test`. */
export function lines(child: ChildProcess): {
  all: string[];
  next: (test: (line: string) => boolean, ms?: number) => Promise<string>;
} {
  const all: string[] = [];
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const waiting: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  let rest = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    rest += chunk;
    const parts = rest.split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) {
      all.push(line);
      for (const waiter of waiting.splice(0)) {
        if (waiter.test(line)) waiter.resolve(line);
        else waiting.push(waiter);
      }
    }
  });
  return {
    all,
    next: (test, ms = 10_000) =>
      new Promise((resolve, reject) => {
        const seen = all.find(test);
        if (seen !== undefined) return resolve(seen);
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `no such line within ${ms} ms; printed:\n${all.join('\n')}\nstderr:\n${stderr}`,
              ),
            ),
          ms,
        );
        waiting.push({
          test,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      }),
  };
}
