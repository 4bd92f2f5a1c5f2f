// Finding a GPU tool on PATH without waiting on a network mount: local file systems are looked at
// in this process; anything on another, or reached through a link into one, is left to a child.
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lookLocally, mountTypes } from '../src/sources/gpu/localLookup.js';
import { findExecutable } from '../src/sources/gpu/tools.js';
import { makeBin, makeTree, mountLine } from './helpers.js';

const posix = it.skipIf(process.platform === 'win32');

describe('the mount table', () => {
  it('gives each mount point its type, unescaped, the last mount at a point winning', () => {
    const types = mountTypes(
      [
        mountLine(1, '/', '/', 'ext4', 'rw'),
        mountLine(2, '/', '/shared\\040data', 'nfs4', 'rw'),
        mountLine(3, '/', '/scratch', 'xfs', 'rw'),
        mountLine(4, '/', '/scratch', 'fuse.sshfs', 'rw'),
        'garbage',
      ].join('\n'),
    );
    expect(Object.fromEntries(types)).toEqual({
      '/': 'ext4',
      '/shared data': 'nfs4',
      '/scratch': 'fuse.sshfs',
    });
    expect(mountTypes(undefined).size).toBe(0);
  });
});

describe('a look in this process', () => {
  /** A tree: a local tool, a folder that stands for a network mount, and links between them. */
  function tree() {
    const root = makeTree({
      'local/bin/tool': '#!/bin/sh\n',
      'local/bin/data': '',
      'nfs/bin/tool': '',
    });
    chmodSync(join(root, 'local/bin/tool'), 0o755);
    mkdirSync(join(root, 'local/links'));
    symlinkSync(join(root, 'local/bin'), join(root, 'local/links/bin'));
    symlinkSync('../bin/tool', join(root, 'local/links/relative'));
    symlinkSync(join(root, 'nfs/bin/tool'), join(root, 'local/links/remote'));
    symlinkSync(join(root, 'local/links/loop'), join(root, 'local/links/loop'));
    // `a/../deep`: `a` is a link, so `..` is its target's parent, not `links`.
    mkdirSync(join(root, 'local/far/away'), { recursive: true });
    mkdirSync(join(root, 'local/far/deep'));
    writeFileSync(join(root, 'local/far/deep/tool'), '');
    chmodSync(join(root, 'local/far/deep/tool'), 0o755);
    symlinkSync(join(root, 'local/far/away'), join(root, 'local/links/a'));
    symlinkSync('a/../deep', join(root, 'local/links/physical'));
    const types = new Map([
      ['/', 'ext4'],
      [join(root, 'nfs'), 'nfs4'],
    ]);
    return { root, types };
  }

  posix.each([
    ['a local executable file', 'local/bin/tool', 'executable'],
    ['a file that is not executable', 'local/bin/data', 'absent'],
    ['a folder', 'local/bin', 'absent'],
    ['nothing', 'local/bin/none', 'absent'],
    ['a path through a file', 'local/bin/data/tool', 'absent'],
    ['a folder linked to a local one', 'local/links/bin/tool', 'executable'],
    ['a relative link to a local file', 'local/links/relative', 'executable'],
    ['a link loop', 'local/links/loop', 'absent'],
    [
      'a link whose `..` follows a link, as the kernel does',
      'local/links/physical/tool',
      'executable',
    ],
    ['a folder through `..` after a link', 'local/links/a/../deep/tool', 'executable'],
    ['a file on a network mount', 'nfs/bin/tool', 'remote'],
    ['a link into a network mount', 'local/links/remote', 'remote'],
  ])('says %s is %s', (_, file, verdict) => {
    const { root, types } = tree();
    // Joined as text: `join` would take `a/..` away before the lookup sees it.
    expect(lookLocally(`${root}/${file}`, types)).toBe(verdict);
  });

  posix('leaves everything to a child where the mounts are not known', () => {
    const { root } = tree();
    expect(lookLocally(join(root, 'local/bin/tool'), new Map())).toBe('remote');
  });
});

describe('finding a tool', () => {
  posix(
    'takes a local entry in PATH order, and asks a child only from the first remote one on',
    async () => {
      const local = makeBin({ tool: 'exit 0' });
      const remote = makeBin({ tool: 'exit 0' });
      const mountinfo = [
        mountLine(1, '/', '/', 'ext4', 'rw'),
        mountLine(2, '/', remote, 'nfs4', 'rw'),
      ].join('\n');
      const signal = new AbortController().signal;
      const find = (path: string) =>
        findExecutable('tool', { PATH: path }, signal, 'linux', mountinfo);
      expect(await find(`${local}:${remote}`)).toBe(join(local, 'tool'));
      // The child looks at what it is given: the remote folder's tool, found by /bin/sh.
      expect(await find(`${remote}:${local}`)).toBe(join(remote, 'tool'));
      expect(await find(makeTree({}))).toBeUndefined();
      writeFileSync(join(remote, 'tool'), '');
      chmodSync(join(remote, 'tool'), 0o644);
      expect(await find(`${remote}:${local}`)).toBe(join(local, 'tool'));
    },
  );
});
