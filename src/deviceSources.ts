import type * as ChildProcess from 'node:child_process';
import type { Readable } from 'node:stream';
import { builtin } from './builtins.js';
import type { DeviceMemory, DeviceSource, DeviceVendor } from './device.js';
import { logger } from './diagnostics.js';
import { parseDecimal, parseInteger } from './parse.js';

/** An environment: `process.env` or a replacement for it. */
export type Env = Record<string, string | undefined>;

/** A device as its source reports it, before visibility; `ordinal` is the source's own number. */
export interface RawDevice {
  ordinal: number;
  uuid: string | null;
  name: string;
  vendor: DeviceVendor;
  totalBytes: number | null;
  freeBytes: number | null;
}

/** How a run of a tool ended: its output, or why there is none. */
export type ToolResult =
  | { status: 'ok'; stdout: string }
  | { status: 'failed' | 'cancelled' | 'timeout'; detail: string };

const log = logger('device');

const { delimiter, isAbsolute, join } = builtin('node:path');
const MIB = 1024 ** 2;
const MAX_OUTPUT_CHARS = 1024 ** 2;
/** `N/A`, `[N/A]`, and nvidia-smi's other bracketed non-values (`[Not Supported]`, `[Unknown Error]`). */
const NOT_AVAILABLE = /^(?:N\/A|\[[^\]]*\])$/i;

/** Reads a variable of `env`; on Windows, whatever the case of its name (`Path`). */
export function envValue(env: Env, name: string): string | undefined {
  const value = env[name];
  if (value !== undefined || process.platform !== 'win32') return value;
  const key = Object.keys(env).find((candidate) => candidate.toUpperCase() === name);
  return key === undefined ? undefined : env[key];
}

/**
 * Finds an executable on `env`'s PATH, as a shell would, without running anything. Relative and
 * empty PATH entries are skipped (they would search the working directory); on Windows only
 * `.exe` and `.com` files count, since `.cmd` and `.bat` need a shell.
 */
export async function findExecutable(name: string, env: Env): Promise<string | undefined> {
  const path = envValue(env, 'PATH');
  if (path === undefined || path === '') return undefined;
  const { access, constants, stat } = builtin('node:fs/promises');
  const extensions = process.platform === 'win32' ? ['.exe', '.com'] : [''];
  for (const directory of path.split(delimiter)) {
    if (!isAbsolute(directory)) continue;
    for (const extension of extensions) {
      const file = join(directory, `${name}${extension}`);
      try {
        await access(file, constants.X_OK);
        if ((await stat(file)).isFile()) return file;
      } catch {
        // Not here: try the next directory.
      }
    }
  }
  return undefined;
}

/** Kills a child and everything it started: its process group on POSIX, its tree on Windows. */
function killTree(child: ChildProcess.ChildProcess): void {
  const { pid } = child;
  if (pid === undefined) return;
  if (process.platform === 'win32') {
    const { execFile } = builtin('node:child_process');
    execFile('taskkill', ['/pid', String(pid), '/T', '/F'], { windowsHide: true }, (error) => {
      if (error !== null) child.kill();
    });
    return;
  }
  try {
    // The child leads its own process group (detached): a negative pid signals all of it.
    process.kill(-pid, 'SIGKILL');
  } catch (error) {
    log('could not kill process group %d: %s', pid, error);
    child.kill('SIGKILL');
  }
}

function firstLine(text: string): string {
  return text.trim().split(/\r?\n/, 1)[0] ?? '';
}

/**
 * Runs `file` with `args` asynchronously and collects its output. Past `timeoutMs`, or when
 * `signal` aborts, the tool and every process it started are killed and the promise resolves at
 * once. Never rejects.
 */
export function runTool(
  file: string,
  args: readonly string[],
  env: Env,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ToolResult> {
  if (signal?.aborted === true) {
    return Promise.resolve({ status: 'cancelled', detail: 'not needed any more' });
  }
  const { spawn } = builtin('node:child_process');
  return new Promise((resolve) => {
    let child: ChildProcess.ChildProcessByStdio<null, Readable, Readable>;
    try {
      child = spawn(file, args, {
        env,
        detached: process.platform !== 'win32',
        stdio: ['ignore', 'pipe', 'pipe'],
        windowsHide: true,
      });
    } catch (error) {
      resolve({ status: 'failed', detail: String(error) });
      return;
    }
    let stdout = '';
    let stderr = '';
    let settled = false;
    const finish = (result: ToolResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', cancel);
      resolve(result);
    };
    const stop = (result: ToolResult): void => {
      if (settled) return;
      killTree(child);
      // Nothing of a killed tool may keep this process alive: not its pipes, not its handle.
      child.stdout.destroy();
      child.stderr.destroy();
      child.unref();
      finish(result);
    };
    const cancel = (): void => stop({ status: 'cancelled', detail: 'not needed any more' });
    const timer = setTimeout(
      () => stop({ status: 'timeout', detail: `no answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
    signal?.addEventListener('abort', cancel, { once: true });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.length > MAX_OUTPUT_CHARS) stop({ status: 'failed', detail: 'too much output' });
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < 4096) stderr += chunk;
    });
    child.on('error', (error) => finish({ status: 'failed', detail: error.message }));
    child.on('close', (code, signalName) => {
      if (code === 0) finish({ status: 'ok', stdout });
      else
        finish({
          status: 'failed',
          detail:
            code === null
              ? `killed by ${signalName}`
              : `exit ${code}: ${firstLine(stderr || stdout)}`,
        });
    });
  });
}

/** A memory field in MiB: bytes, `null` for N/A, `undefined` for anything else. */
function mibField(text: string): number | null | undefined {
  if (NOT_AVAILABLE.test(text)) return null;
  const mib = parseDecimal(text);
  return mib === undefined || mib < 0 ? undefined : Math.round(mib * MIB);
}

function nvidiaDevice(fields: string[]): RawDevice | undefined {
  const ordinal = parseInteger(fields[0] ?? '');
  const totalBytes = mibField(fields.at(-2) ?? '');
  const freeBytes = mibField(fields.at(-1) ?? '');
  if (ordinal === undefined || totalBytes === undefined || freeBytes === undefined) {
    return undefined;
  }
  const uuid = fields[1] ?? '';
  // A name may hold commas: it is everything between the UUID and the two memory fields.
  const name = fields.slice(2, -2).join(', ');
  return {
    ordinal,
    uuid: uuid === '' || NOT_AVAILABLE.test(uuid) ? null : uuid,
    name: name === '' || NOT_AVAILABLE.test(name) ? `GPU ${ordinal}` : name,
    vendor: 'nvidia',
    totalBytes,
    freeBytes:
      totalBytes === null || freeBytes === null ? freeBytes : Math.min(freeBytes, totalBytes),
  };
}

/**
 * Parses the output of `nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.free
 * --format=csv,noheader,nounits` (MiB). Lines that are not a device are skipped; `undefined`
 * when no line is one.
 */
export function parseNvidiaSmi(stdout: string): RawDevice[] | undefined {
  const devices: RawDevice[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const fields = line.split(',').map((field) => field.trim());
    const device = fields.length >= 5 ? nvidiaDevice(fields) : undefined;
    if (device === undefined || devices.some((known) => known.ordinal === device.ordinal)) {
      log('nvidia-smi: ignoring line %o', line);
      continue;
    }
    devices.push(device);
  }
  return devices.length === 0 ? undefined : devices.sort((a, b) => a.ordinal - b.ordinal);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A byte count from rocm-smi's JSON: bytes, `null` when missing or N/A, `undefined` for garbage. */
function bytesField(value: unknown): number | null | undefined {
  if (value === undefined) return null;
  if (typeof value === 'number')
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  return NOT_AVAILABLE.test(value.trim()) ? null : parseInteger(value);
}

/**
 * Parses the output of `rocm-smi --showmeminfo vram --json` (bytes, devices `card0`, `card1`, …).
 * Text around the JSON object is ignored; `undefined` when there is no card in it.
 */
export function parseRocmSmi(stdout: string): RawDevice[] | undefined {
  // The object starts a line: a warning printed before it may hold a brace of its own.
  const start = /^\s*\{/m.exec(stdout)?.index ?? -1;
  const end = stdout.lastIndexOf('}');
  if (start === -1 || end < start) return undefined;
  let data: Record<string, unknown>;
  try {
    // From a brace to a brace: valid JSON there is an object.
    data = JSON.parse(stdout.slice(start, end + 1));
  } catch {
    return undefined;
  }
  const devices: RawDevice[] = [];
  for (const [key, value] of Object.entries(data)) {
    const card = /^card(\d+)$/.exec(key)?.[1];
    if (card === undefined || !isRecord(value)) continue;
    const totalBytes = bytesField(value['VRAM Total Memory (B)']);
    const usedBytes = bytesField(value['VRAM Total Used Memory (B)']);
    if (totalBytes === undefined || usedBytes === undefined) {
      log('rocm-smi: ignoring %s %o', key, value);
      continue;
    }
    devices.push({
      ordinal: Number(card),
      uuid: null,
      name: key,
      vendor: 'amd',
      totalBytes,
      freeBytes:
        totalBytes === null || usedBytes === null ? null : Math.max(0, totalBytes - usedBytes),
    });
  }
  return devices.length === 0 ? undefined : devices.sort((a, b) => a.ordinal - b.ordinal);
}

/** The vendor of a graphics controller, from its vendor name or PCI vendor id. */
export function vendorOf(vendor: unknown, vendorId: unknown): DeviceVendor {
  const name = typeof vendor === 'string' ? vendor : '';
  const id = typeof vendorId === 'string' ? vendorId.toLowerCase().replace(/^0x/, '') : '';
  if (/nvidia/i.test(name) || id === '10de') return 'nvidia';
  if (/\bamd\b|advanced micro devices|\bati\b/i.test(name) || id === '1002') return 'amd';
  return 'other';
}

function mib(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
    ? Math.round(value * MIB)
    : null;
}

/**
 * Reads systeminformation's `graphics()` answer: its `controllers`, `vram` and `memoryFree` in
 * MiB. A controller whose memory is shared with the host (`vramDynamic`) or unknown has no total.
 * `undefined` when there is no `controllers` array; `[]` when it is empty.
 */
export function parseGraphics(data: unknown): RawDevice[] | undefined {
  const controllers = isRecord(data) ? data.controllers : undefined;
  if (!Array.isArray(controllers)) return undefined;
  const counts: Record<DeviceVendor, number> = { nvidia: 0, amd: 0, other: 0 };
  const devices: RawDevice[] = [];
  for (const controller of controllers) {
    if (!isRecord(controller)) continue;
    const vendor = vendorOf(controller.vendor, controller.vendorId);
    const name = [controller.model, controller.name, controller.vendor].find(
      (text): text is string => typeof text === 'string' && text.trim() !== '',
    );
    const vram = controller.vramDynamic === true ? null : mib(controller.vram);
    const totalBytes = vram === 0 ? null : vram;
    devices.push({
      ordinal: counts[vendor]++,
      uuid: null,
      name: name?.trim() ?? 'GPU',
      vendor,
      totalBytes,
      freeBytes: totalBytes === null ? null : mib(controller.memoryFree),
    });
  }
  return devices;
}

function pick(devices: readonly RawDevice[], entry: string): RawDevice | undefined {
  if (/^\d+$/.test(entry)) return devices.find((device) => device.ordinal === Number(entry));
  if (/^GPU-./i.test(entry)) {
    const prefix = entry.toLowerCase();
    const matches = devices.filter((device) => device.uuid?.toLowerCase().startsWith(prefix));
    return matches.length === 1 ? matches[0] : undefined;
  }
  return undefined;
}

/**
 * Applies a `*_VISIBLE_DEVICES` value: devices by ordinal or by UUID (a unique `GPU-` prefix is
 * enough), in the order listed, renumbered from 0. Unset shows all; an entry that names no device
 * (or one already listed) hides itself and every later entry, so empty and `-1` hide all.
 */
function restrictDevices(
  devices: readonly RawDevice[],
  value: string | undefined,
  variable: string,
): RawDevice[] {
  if (value === undefined) return [...devices];
  const chosen: RawDevice[] = [];
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    const device = pick(devices, entry);
    if (device === undefined || chosen.includes(device)) {
      log('%s: %o names no device; it and the entries after it are hidden', variable, entry);
      break;
    }
    chosen.push(device);
  }
  return chosen.map((device, ordinal) => ({ ...device, ordinal }));
}

/**
 * The devices a fit in this process can use: NVIDIA ones through `CUDA_VISIBLE_DEVICES`, AMD ones
 * through `ROCR_VISIBLE_DEVICES` then `HIP_VISIBLE_DEVICES`, numbered from 0 in that order. A
 * device whose total memory is unknown is left out, and its number is not reused.
 */
export function visibleDevices(
  devices: readonly RawDevice[],
  source: DeviceSource,
  env: Env,
): DeviceMemory[] {
  const of = (vendor: DeviceVendor) => devices.filter((device) => device.vendor === vendor);
  const nvidia = restrictDevices(
    of('nvidia'),
    envValue(env, 'CUDA_VISIBLE_DEVICES'),
    'CUDA_VISIBLE_DEVICES',
  );
  const rocr = restrictDevices(
    of('amd'),
    envValue(env, 'ROCR_VISIBLE_DEVICES'),
    'ROCR_VISIBLE_DEVICES',
  );
  const amd = restrictDevices(rocr, envValue(env, 'HIP_VISIBLE_DEVICES'), 'HIP_VISIBLE_DEVICES');
  const visible: DeviceMemory[] = [];
  [...nvidia, ...amd, ...of('other')].forEach((device, index) => {
    const { uuid, name, vendor, totalBytes, freeBytes } = device;
    if (totalBytes === null) {
      log('%s: leaving out device %d (%s), whose total memory is unknown', source, index, name);
      return;
    }
    visible.push({ index, uuid, name, vendor, totalBytes, freeBytes, source });
  });
  return visible;
}
