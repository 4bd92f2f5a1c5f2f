// The floor of the command, as a CommonJS program: the work of one detection (the files and os
// calls in FLOOR_WORK), then one JSON object on stdout.
const { floor } = require('./read.cjs');

const work = JSON.parse(process.env.FLOOR_WORK ?? '{"files":[],"os":[]}');
process.stdout.write(`${JSON.stringify({ bytes: floor(work) }, null, 2)}\n`);
