import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectMemorySync } from '../src/index.js';
import { GIB, makeTree, meminfo, mountLine } from './helpers.js';

// A pod's tree: the process in /pod, limited to 2 GiB; a sibling /other, limited to 1 GiB.
function pod() {
  return makeTree({
    'proc/meminfo': meminfo(64 * GIB, 40 * GIB),
    'proc/self/cgroup': '0::/pod\n',
    'proc/self/mountinfo': `${mountLine(30, '/', '/sys/fs/cgroup', 'cgroup2', 'rw')}\n`,
    'sys/fs/cgroup/cgroup.controllers': 'cpu memory\n',
    'sys/fs/cgroup/pod/memory.max': `${2 * GIB}\n`,
    'sys/fs/cgroup/other/memory.max': `${GIB}\n`,
  });
}
const refreshed = (fsRoot: string) =>
  detectMemorySync({ fsRoot, env: {}, refresh: true, probes: { totalmem: () => 64 * GIB } });

describe('where the cgroups are', () => {
  it('is located once: a refresh reads the limit again, not the mount table', () => {
    const fsRoot = pod();
    expect(refreshed(fsRoot)?.totalBytes).toBe(2 * GIB);
    // Were the mount table read again, nothing would be located without it.
    renameSync(join(fsRoot, 'proc/self/mountinfo'), join(fsRoot, 'mountinfo.away'));
    writeFileSync(join(fsRoot, 'sys/fs/cgroup/pod/memory.max'), `${3 * GIB}\n`);
    expect(refreshed(fsRoot)).toMatchObject({
      totalBytes: 3 * GIB,
      limitOrigin: join(fsRoot, 'sys/fs/cgroup/pod/memory.max'),
    });
  });

  it("is found in a mount table larger than the reader's first buffer, on its last line", () => {
    const fsRoot = pod();
    const others = Array.from({ length: 2000 }, (_, at) =>
      mountLine(100 + at, '/', `/var/lib/kubelet/pods/${at}/volumes/ünïcode`, 'tmpfs', 'rw'),
    );
    writeFileSync(
      join(fsRoot, 'proc/self/mountinfo'),
      `${[...others, mountLine(30, '/', '/sys/fs/cgroup', 'cgroup2', 'rw')].join('\n')}\n`,
    );
    expect(refreshed(fsRoot)?.totalBytes).toBe(2 * GIB);
  });

  it('is located again when the process moved to another cgroup', () => {
    const fsRoot = pod();
    expect(refreshed(fsRoot)?.totalBytes).toBe(2 * GIB);
    writeFileSync(join(fsRoot, 'proc/self/cgroup'), '0::/other\n');
    expect(refreshed(fsRoot)).toMatchObject({
      totalBytes: GIB,
      limitOrigin: join(fsRoot, 'sys/fs/cgroup/other/memory.max'),
    });
  });

  it('is located again while the mount table could not be read', () => {
    const fsRoot = pod();
    const mountinfo = join(fsRoot, 'proc/self/mountinfo');
    renameSync(mountinfo, join(fsRoot, 'mountinfo.away'));
    expect(refreshed(fsRoot)?.limitBytes).toBeNull();
    renameSync(join(fsRoot, 'mountinfo.away'), mountinfo);
    expect(refreshed(fsRoot)?.totalBytes).toBe(2 * GIB);
  });

  it('is located again while /proc/self/cgroup cannot be read', () => {
    const fsRoot = pod();
    rmSync(join(fsRoot, 'proc/self/cgroup'));
    expect(refreshed(fsRoot)?.limitBytes).toBeNull();
    writeFileSync(join(fsRoot, 'proc/self/cgroup'), '0::/pod\n');
    expect(refreshed(fsRoot)?.totalBytes).toBe(2 * GIB);
  });
});
