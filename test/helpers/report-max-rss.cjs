// Preloaded (node --require) into a CLI process that a fault test runs: on exit it writes the process's
// peak resident memory, worker threads included, as the last line of stderr, so that the test can hold
// each case to a bound on memory as well as on time. (stderr to a pipe is synchronous on Linux, so the
// line is out before the process ends.)
process.on('exit', () => {
  process.stderr.write(`\n[max-rss-kb ${process.resourceUsage().maxRSS}]\n`);
});
