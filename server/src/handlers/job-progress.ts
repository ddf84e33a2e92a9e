// Each job's progress as the editor shows it: LSP work-done progress (cancellable) while it runs, a
// JobStateNotification per update, the CodeLens refreshed (at once on a change of state, at most once a
// second in between), and a line in the Output channel (a message for failures) when it ends.
import path from 'node:path';
import type { WorkDoneProgressServerReporter } from 'vscode-languageserver';
import type { ServerContext } from '../context';
import { JobStateNotification, type JobStateParams } from '../protocol';
import type { Validation } from '../validation';

export function registerJobProgress(ctx: ServerContext, validation: Validation): void {
  const { connection, jobs } = ctx;
  const reporters = new Map<string, Promise<WorkDoneProgressServerReporter>>();
  const refreshLenses = (now: boolean): void => ctx.refreshCodeLenses(now);

  ctx.jobListeners.push((p: JobStateParams) => {
    void connection.sendNotification(JobStateNotification, p);
    const key = `${p.kind}:${p.uri}`;
    // The subject as the user named it (its name: field), else its file.
    const name: unknown = ctx.states.get(p.uri)?.parsed.value?.name;
    const what = typeof name === 'string' ? `<${name}>` : path.basename(ctx.fileOf(p.uri));
    const label = `${p.kind === 'train' ? 'Training' : p.kind === 'evaluate' ? 'Evaluating' : 'Recognizing'} ${what}`;
    if (p.state === 'running') {
      // Training started: the note that an auto-save did not train is no longer true.
      if (p.kind === 'train') ctx.autoSavedUntrained.delete(p.uri);
      let reporter = reporters.get(key);
      if (!reporter) {
        connection.console.info(`yollava: ${label.toLowerCase()} started`);
        reporter = connection.window.createWorkDoneProgress().then((r) => {
          r.begin(label, 0, p.message, true);
          r.token.onCancellationRequested(() =>
            jobs.cancel(p.kind, ctx.fileOf(p.uri), 'cancelled from the editor'),
          );
          return r;
        });
        reporters.set(key, reporter);
        refreshLenses(true);
      } else void reporter.then((r) => r.report(Math.floor(p.run?.percent ?? 0), p.message));
      refreshLenses(false);
      return;
    }
    if (p.state === 'queued') {
      refreshLenses(true);
      return;
    }
    const reporter = reporters.get(key);
    reporters.delete(key);
    void reporter?.then((r) => r.done());
    refreshLenses(true);
    const superseded = p.state === 'cancelled' && p.superseded === true;
    if (p.state === 'failed' || (p.state === 'cancelled' && !superseded)) {
      const line = `yollava: ${label.toLowerCase()} ${p.state}: ${p.message.replace(/^\w+ (failed|cancelled): /, '')}; the previous concept (if any) is kept`;
      // A Cancel the user asked for is no error.
      if (p.state === 'failed') connection.console.error(line);
      else connection.console.info(line);
      // A client that cannot show messages is no reason to fail: the Output channel has the line.
      void Promise.resolve(
        p.state === 'failed'
          ? connection.window.showErrorMessage(line)
          : connection.window.showInformationMessage(line),
      ).catch(() => undefined);
    } else if (!superseded) connection.console.info(`yollava: ${p.message}`);
    // A superseded job says nothing: a burst of saves (and a Ctrl+S's didSave with its savedByHand) is
    // one run, whose start the log shows.
  });

  // A photo changing on disk makes the trained concept stale: show it.
  validation.onFolderChange = () => refreshLenses(false);
}
