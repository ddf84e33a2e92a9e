// bench/subject-workers.ts: the toyworld benchmark's subjects scored in worker threads, a few at a time.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runInWorkers } from '../../bench/subject-workers';

const script = path.join(__dirname, '..', 'helpers', 'bench-echo-worker.ts');
type Message = { id: number; at: 'start' | 'end' };

describe('bench subject workers', () => {
  // Each job lasts a second, far longer than a worker takes to start, so two lanes do overlap.
  it('runs every job, at most `parallel` at once, and hands over each message as it comes', async () => {
    const seen: Message[] = [];
    let running = 0;
    let most = 0;
    await runInWorkers<{ id: number; ms: number }, Message>(
      script,
      [0, 1, 2, 3, 4].map((id) => ({ id, ms: 1000 })),
      2,
      (m) => {
        seen.push(m);
        running += m.at === 'start' ? 1 : -1;
        most = Math.max(most, running);
      },
    );
    assert.equal(most, 2);
    assert.deepEqual(
      seen
        .filter((m) => m.at === 'end')
        .map((m) => m.id)
        .sort(),
      [0, 1, 2, 3, 4],
    );
  });

  it('a failing job fails the run, after the job running beside it has delivered its result', async () => {
    const ends: number[] = [];
    await assert.rejects(
      runInWorkers<{ id: number; ms: number; fail?: boolean }, Message>(
        script,
        [
          { id: 0, ms: 50, fail: true },
          { id: 1, ms: 400 },
          { id: 2, ms: 50 },
        ],
        2,
        (m) => {
          if (m.at === 'end') ends.push(m.id);
        },
      ),
      /job 0 failed/,
    );
    // Job 1 was running when job 0 failed and still finished; job 2 never started.
    assert.deepEqual(ends, [1]);
  });
});
