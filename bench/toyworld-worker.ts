// A worker thread of `npm run bench -- toyworld --jobs N`: loads the model with its share of the cores,
// trains and scores one subject under its variants (toyworld.ts, scoreSubjectCells), and posts each
// result to the main thread, which saves it.
import { parentPort, workerData } from 'node:worker_threads';
import { LlavaModel } from '../server/src/engine/models/llava/model';
import { scoreSubjectCells, type WorkerJob } from './toyworld';

async function main(job: WorkerJob): Promise<void> {
  const model = LlavaModel.load(job.modelDir, { threads: job.threads });
  try {
    await scoreSubjectCells(model, job, (key, figures) => parentPort!.postMessage({ key, figures }));
  } finally {
    await model.release();
  }
}

main(workerData as WorkerJob).catch((e: unknown) => {
  // Rethrown outside the promise, so that the thread ends with the error and the main thread sees it.
  setImmediate(() => {
    throw e;
  });
});
