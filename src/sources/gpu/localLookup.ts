import { builtin } from '../../core/builtins.js';
import { unescapeMountPath } from '../mounts.js';

/** Where a file was looked for in this process: found, not there, or on a filesystem it may not look at. */
export type Verdict = 'executable' | 'absent' | 'remote';

/**
 * File systems whose lookups never wait on a server: a file on one is looked at in this process,
 * synchronously, in microseconds. Any other (NFS, CIFS, FUSE, Lustre, GPFS, autofs, …) may hang
 * for good, and only a child process that can be killed may look there. Rootless containers'
 * fuse-overlayfs and a VM's virtiofs are local disks behind a daemon on the same machine.
 */
const LOCAL = new Set(
  [
    'apfs bcachefs btrfs devtmpfs ecryptfs erofs exfat ext2 ext3 ext4 f2fs fuse.fuse-overlayfs',
    'hfsplus iso9660 jfs nilfs2 ntfs3 overlay proc ramfs squashfs sysfs tmpfs vfat virtiofs xfs zfs',
  ]
    .join(' ')
    .split(' '),
);

/** The most symbolic links followed in one lookup, as Linux's own limit. */
const MAX_LINKS = 40;

/** The file system type of each mount point of `/proc/self/mountinfo`; a later mount at a point hides an earlier one. */
export function mountTypes(mountinfo: string | undefined): Map<string, string> {
  const types = new Map<string, string>();
  for (const line of mountinfo?.split('\n') ?? []) {
    const separator = line.indexOf(' - ');
    const point = line.slice(0, separator).split(' ')[4];
    if (separator < 0 || point === undefined) continue;
    const type = line.slice(separator + 3).split(' ', 1)[0] ?? '';
    types.set(unescapeMountPath(point), type);
  }
  return types;
}

/** The type of the file system that holds `path`: that of the nearest mount point at or above it. */
function typeOf(path: string, types: ReadonlyMap<string, string>): string | undefined {
  const { dirname } = builtin('node:path').posix;
  for (let at = path; ; at = dirname(at)) {
    const type = types.get(at);
    if (type !== undefined || at === '/') return type;
  }
}

/**
 * Whether the absolute `file` is an executable file, looked at in this process where every step
 * to it, links followed, is on a local file system (`types`, from {@link mountTypes}); else
 * `'remote'`: the step that is not, and what is past it, only a child process may look at.
 */
export function lookLocally(file: string, types: ReadonlyMap<string, string>, links = 0): Verdict {
  const fs = builtin('node:fs');
  const parts = file.split('/').filter((part) => part !== '' && part !== '.');
  // Each step so far is a folder, no link: `..` of it is its parent, as the kernel takes it.
  let path = '';
  for (const [index, part] of parts.entries()) {
    if (part === '..') {
      path = path.slice(0, path.lastIndexOf('/'));
      continue;
    }
    const next = `${path}/${part}`;
    if (!LOCAL.has(typeOf(next, types) ?? '')) return 'remote';
    let stats: ReturnType<typeof fs.lstatSync>;
    let target: string | undefined;
    try {
      stats = fs.lstatSync(next, { throwIfNoEntry: false });
      if (stats?.isSymbolicLink() === true) target = fs.readlinkSync(next);
    } catch {
      return 'absent'; // no permission, a loop: not a file this process may run
    }
    if (stats === undefined) return 'absent';
    if (target !== undefined) {
      if (links >= MAX_LINKS) return 'absent';
      // The target, from the link's folder unless absolute, then the rest: never normalized as text.
      const rest = parts.slice(index + 1).join('/');
      const from = target.startsWith('/') ? target : `${path}/${target}`;
      return lookLocally(`${from}/${rest}`, types, links + 1);
    }
    const last = index === parts.length - 1;
    if (last ? !stats.isFile() : !stats.isDirectory()) return 'absent';
    path = next;
  }
  try {
    fs.accessSync(path, fs.constants.X_OK);
    return 'executable';
  } catch {
    return 'absent';
  }
}
