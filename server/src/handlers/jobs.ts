// The heavy work as the editor asks for it: the Train / Evaluate / recognition preview / chat requests
// (job-requests.ts), train on save (train-on-save.ts), and each job's progress (job-progress.ts).
import type { ServerContext } from '../context';
import type { Validation } from '../validation';
import { registerJobProgress } from './job-progress';
import { registerJobRequests } from './job-requests';
import { registerTrainOnSave } from './train-on-save';

export { SAVE_DEBOUNCE_MS } from './train-on-save';

export function registerJobs(ctx: ServerContext, validation: Validation): void {
  registerJobRequests(ctx, validation);
  registerTrainOnSave(ctx, validation);
  registerJobProgress(ctx, validation);
}
