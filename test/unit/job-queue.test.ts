// The server's job queue: one job per device at a time, a key's newer job replaces or supersedes the
// older one, and debounced submissions in a burst make one run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JobCancelledError, JobQueue, type QueueClock } from '../../server/src/jobs/job-queue';

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('JobQueue', () => {
  it('runs one job per device at a time, and devices side by side', async () => {
    const q = new JobQueue();
    let running = 0;
    let most = 0;
    const job = (key: string, device: string) =>
      q.submit({
        key,
        device,
        run: async () => {
          running++;
          most = Math.max(most, running);
          await tick(30);
          running--;
          return key;
        },
      });
    const a = job('a', 'cpu');
    const b = job('b', 'cpu');
    const c = job('c', 'cuda');
    assert.deepEqual(await Promise.all([a.result, b.result, c.result]), ['a', 'b', 'c']);
    assert.equal(most, 2, 'cpu ran one at a time while cuda ran beside it');
  });

  it('a newer job of a key cancels the running one and runs after it; a queued one is replaced', async () => {
    const states: string[] = [];
    const q = new JobQueue((key, state) => states.push(`${key}:${state}`));
    const first = q.submit({
      key: 'train:bo',
      device: 'cpu',
      run: (signal) =>
        new Promise((resolve, reject) => {
          signal.addEventListener('abort', () => reject(new Error('stopped')));
          setTimeout(() => resolve('first'), 5000);
        }),
    });
    await tick(10);
    const second = q.submit({ key: 'train:bo', device: 'cpu', run: async () => 'second' });
    const third = q.submit({ key: 'train:bo', device: 'cpu', run: async () => 'third' });
    await assert.rejects(first.result, JobCancelledError);
    // The reason is for people: no internal key in it, and a flag says it was superseded.
    await assert.rejects(second.result, (e: unknown) => {
      assert.ok(e instanceof JobCancelledError && e.superseded);
      assert.doesNotMatch(e.message, /train:|bo/);
      return true;
    });
    assert.equal(await third.result, 'third');
    assert.equal(states.filter((s) => s === 'train:bo:running').length, 2);
  });

  it('debounced submissions in a burst run once, after the last', async () => {
    // A clock the test moves by hand: submissions 10 ms apart against a 50 ms debounce, however slow the
    // machine running the test.
    let now = 0;
    const timers: { at: number; fn: () => void }[] = [];
    const clock: QueueClock = {
      now: () => now,
      setTimeout: (fn, ms) => {
        const t = { at: now + ms, fn };
        timers.push(t);
        return t;
      },
      clearTimeout: (t) => {
        const i = timers.indexOf(t as (typeof timers)[number]);
        if (i >= 0) timers.splice(i, 1);
      },
    };
    const advance = (to: number): void => {
      now = to;
      for (const t of timers.filter((x) => x.at <= to)) {
        timers.splice(timers.indexOf(t), 1);
        t.fn();
      }
    };
    const q = new JobQueue(undefined, clock);
    let runs = 0;
    const handles = [];
    for (let i = 0; i < 10; i++) {
      if (i) advance(now + 10);
      handles.push(q.submit({ key: 'k', device: 'cpu', debounceMs: 50, run: async () => ++runs }));
    }
    assert.equal(runs, 0, 'nothing runs while submissions keep coming');
    advance(now + 49);
    assert.equal(runs, 0, 'nor before the debounce after the last has passed');
    advance(now + 1);
    assert.equal(await handles.at(-1)!.result, 1);
    assert.equal(runs, 1);
    for (const h of handles.slice(0, -1)) assert.equal(h.state, 'cancelled');
  });
});
