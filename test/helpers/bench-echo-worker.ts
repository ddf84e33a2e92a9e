// A worker for the bench's subject-workers test: says when it starts and ends, after `ms`, or fails.
import { parentPort, workerData } from 'node:worker_threads';

const job = workerData as { id: number; ms: number; fail?: boolean };
parentPort!.postMessage({ id: job.id, at: 'start' });
setTimeout(() => {
  if (job.fail) throw new Error(`job ${job.id} failed`);
  parentPort!.postMessage({ id: job.id, at: 'end' });
}, job.ms);
