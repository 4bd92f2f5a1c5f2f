// The floor of the command, as an ES module program: as ./command.cjs.
import { floor } from './module.mjs';

const work = JSON.parse(process.env.FLOOR_WORK ?? '{"files":[],"os":[]}');
process.stdout.write(`${JSON.stringify({ bytes: floor(work) }, null, 2)}\n`);
