// Runs a benchmark's per-subject jobs in worker threads, at most `parallel` at once, one thread per job
// (so each job's memory goes back when it ends). The worker script runs from TypeScript source: each
// thread registers the loader itself, since loader hooks are per thread. A job's worker posts its
// messages as it goes, which reach `onMessage` in this thread; a job that fails fails the run once the
// jobs already running have ended, so that nothing they finish is lost.
import { Worker } from 'node:worker_threads';

export async function runInWorkers<J, M>(
  script: string,
  jobs: J[],
  parallel: number,
  onMessage: (message: M) => void,
): Promise<void> {
  const queue = [...jobs];
  let failure: Error | undefined;
  const lane = async (): Promise<void> => {
    for (let job = queue.shift(); job !== undefined && !failure; job = queue.shift()) {
      const worker = new Worker(`require('tsx/cjs'); require(${JSON.stringify(script)});`, {
        eval: true,
        workerData: job,
      });
      await new Promise<void>((resolve) => {
        worker.on('message', (m: M) => onMessage(m));
        worker.on('error', (e) => {
          failure ??= e;
        });
        worker.on('exit', (code) => {
          if (code !== 0) failure ??= new Error(`a benchmark worker exited with code ${code}`);
          resolve();
        });
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, parallel) }, lane));
  if (failure) throw failure;
}
