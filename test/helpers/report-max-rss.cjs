// Preloaded (node --require) into a CLI process that a fault test runs: on exit it writes the process's
// peak resident memory, worker threads included, as the last line of stderr, so that the test can hold
// each case to a bound on memory as well as on time.
process.on('exit', () => {
  try {
    require('node:fs').writeSync(2, `\n[max-rss-kb ${process.resourceUsage().maxRSS}]\n`);
  } catch {
    // stderr closed: nothing to report to
  }
});
