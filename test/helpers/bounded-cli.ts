// Runs the built yollava CLI as a fault test's hostile case: killed at a time limit, with its peak memory
// reported (report-max-rss.cjs), so that every case proves it ends in bounded time and memory.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');
export const cli = path.join(root, 'dist', 'cli.js');

export interface BoundedRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
  /** Peak resident memory in MB; NaN when the process died before reporting it. */
  maxRssMb: number;
}

export function runCli(
  args: string[],
  opts: { timeoutSeconds: number; input?: string; cwd?: string; env?: NodeJS.ProcessEnv },
): BoundedRun {
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    ['--require', path.join(__dirname, 'report-max-rss.cjs'), cli, ...args],
    {
      encoding: 'utf8',
      cwd: opts.cwd ?? root,
      input: opts.input,
      timeout: opts.timeoutSeconds * 1000,
      killSignal: 'SIGKILL',
      maxBuffer: 1 << 26,
      env: opts.env ?? process.env,
    },
  );
  const m = /\[max-rss-kb (\d+)\]\s*$/.exec(r.stderr ?? '');
  return {
    status: r.status,
    signal: r.signal,
    stdout: r.stdout ?? '',
    stderr: (r.stderr ?? '').replace(/\n\[max-rss-kb \d+\]\s*$/, ''),
    seconds: (performance.now() - t0) / 1000,
    maxRssMb: m ? Number(m[1]) / 1024 : NaN,
  };
}

/**
 * The case ended by itself within `seconds` and `mb`, and said what it had to say: `message` in its output,
 * no stack trace. `ok` says whether it should succeed (exit 0) or be refused (exit non-zero).
 */
export function assertBounded(
  r: BoundedRun,
  expect: { ok: boolean; message?: RegExp; seconds: number; mb: number },
): void {
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(
    r.signal,
    null,
    `killed by ${r.signal} after ${r.seconds.toFixed(1)} s (limit hit?):\n${out.slice(-2000)}`,
  );
  if (expect.ok) assert.equal(r.status, 0, out.slice(-2000));
  else assert.notEqual(r.status, 0, `expected a refusal, got exit 0:\n${out.slice(-2000)}`);
  if (expect.message) assert.match(out, expect.message);
  assert.doesNotMatch(out, /\n\s+at .*\.(?:js|ts):\d+:\d+/, 'a stack trace reached the user');
  assert.ok(r.seconds <= expect.seconds, `took ${r.seconds.toFixed(1)} s (bound ${expect.seconds} s)`);
  assert.ok(r.maxRssMb <= expect.mb, `peak ${r.maxRssMb.toFixed(0)} MB (bound ${expect.mb} MB)`);
}
