// Preloaded into a process the memory suite measures (`node --import …`): on SIGUSR2 it prints
// process.memoryUsage() as one line, so the suite can say where resident memory goes.
process.on('SIGUSR2', () => {
  process.stderr.write(`MEMORY ${JSON.stringify(process.memoryUsage())}\n`);
});
