// Which files and os calls the library's work reads on this machine: a refreshed
// detectMemorySync, and one poll of a watch (the bundle `argv[2]` builds). Prints
// `{ refresh, poll }`, each `{ files, os }`, for the floors of bench/run.mjs.
import { pathToFileURL } from 'node:url';

const fs = process.getBuiltinModule('node:fs');
const os = process.getBuiltinModule('node:os');
let seen = { files: [], os: [] };
const { openSync, readFileSync } = fs;
// Patched before the library is loaded, since it keeps the functions it takes.
fs.openSync = (file, ...rest) => {
  seen.files.push(String(file));
  return openSync(file, ...rest);
};
fs.readFileSync = (file, ...rest) => {
  if (typeof file === 'string') seen.files.push(file);
  return readFileSync(file, ...rest);
};
for (const name of ['totalmem', 'freemem']) {
  const original = os[name];
  os[name] = () => {
    seen.os.push(name);
    return original();
  };
}
const work = (fn) => {
  const done = { files: [], os: [] };
  seen = done;
  fn();
  seen = { files: [], os: [] };
  return done;
};
const api = await import(new URL('../../dist/index.js', import.meta.url).href);
api.detectMemorySync({ refresh: true });
const refresh = work(() => api.detectMemorySync({ refresh: true }));
const { resolveDetect, memoryPoller, Changes } = await import(pathToFileURL(process.argv[2]).href);
const nextPoll = await memoryPoller(resolveDetect({}));
const watched = { fsRoot: '/', pressure: true, pressureThreshold: 10, workingSetThreshold: 0.9 };
const changes = new Changes(nextPoll(), watched);
changes.next(nextPoll());
const poll = work(() => changes.next(nextPoll()));
console.log(JSON.stringify({ refresh, poll }));
