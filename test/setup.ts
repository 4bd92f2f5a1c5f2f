// Many tests provoke this library's warnings and assert them through a spy on
// process.emitWarning: printed by Node.js too, they would read as failures in the test output.
// Other warnings are printed as Node.js prints them.
const printers = process.listeners('warning');
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'NlsqMemoryWarning') for (const print of printers) print(warning);
});
