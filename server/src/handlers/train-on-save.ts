// Train on save: a hand save of a valid subject starts training, debounced so that a burst of saves makes
// one run; auto-saves train only when yollava.trainOnAutoSave asks (web VS Code auto-saves every second).
// An auto-save that does not train says so in the CodeLens, so that nobody waits for a run that never
// starts. Web VS Code can fold a Ctrl+S into an auto-save that fires at the same moment, and then reports
// only the auto-save: the extension's Ctrl+S therefore also sends SavedByHandNotification, which trains
// as a hand save does (the debounce makes one run of the two).
import path from 'node:path';
import { TextDocumentSaveReason } from 'vscode-languageserver';
import type { ServerContext } from '../context';
import { SavedByHandNotification, type SubjectParams } from '../protocol';
import type { Validation } from '../validation';

/** A burst of saves within this long makes one training run. */
export const SAVE_DEBOUNCE_MS = 800;

export function registerTrainOnSave(ctx: ServerContext, validation: Validation): void {
  const { connection, documents, states, jobs } = ctx;
  const saveReasons = new Map<string, TextDocumentSaveReason>();

  const trainAfterHandSave = async (uri: string): Promise<void> => {
    const s = await ctx.settings(uri);
    if (!s.trainOnSave || !ctx.trusted) return;
    await validation.idle(uri);
    const st = states.get(uri);
    if (!st || st.errors) {
      connection.console.info(`yollava: ${path.basename(ctx.fileOf(uri))} saved with errors: not training`);
      return;
    }
    if (ctx.autoSavedUntrained.delete(uri)) ctx.refreshCodeLenses(true);
    jobs.train(ctx.fileOf(uri), uri, await ctx.jobSettings(uri), SAVE_DEBOUNCE_MS);
  };

  documents.onWillSave((e) => saveReasons.set(e.document.uri, e.reason));
  documents.onDidSave(async (e) => {
    const uri = e.document.uri;
    const reason = saveReasons.get(uri) ?? TextDocumentSaveReason.Manual;
    saveReasons.delete(uri);
    if (reason === TextDocumentSaveReason.Manual) return trainAfterHandSave(uri);
    const s = await ctx.settings(uri);
    if (!s.trainOnSave || !ctx.trusted) return;
    if (s.trainOnAutoSave) return trainAfterHandSave(uri);
    connection.console.info(
      `yollava: ${path.basename(ctx.fileOf(uri))} auto-saved: not training (yollava.trainOnAutoSave is off)`,
    );
    // Shown once, in the CodeLens, until the next training; a queued or running one already says more.
    if (!ctx.autoSavedUntrained.has(uri) && !jobs.stateOf('train', ctx.fileOf(uri))) {
      ctx.autoSavedUntrained.add(uri);
      ctx.refreshCodeLenses(true);
    }
  });
  connection.onNotification(SavedByHandNotification, (p: SubjectParams) => {
    // Only an open subject file: the notification names a document the client has.
    if (documents.get(p.uri)) void trainAfterHandSave(p.uri);
  });
}
