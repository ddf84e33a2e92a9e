// Train on save: a hand save of a valid subject starts training, debounced so that a burst of saves makes
// one run; auto-saves train only when yollava.trainOnAutoSave asks (web VS Code auto-saves every second).
import path from 'node:path';
import { TextDocumentSaveReason } from 'vscode-languageserver';
import type { ServerContext } from '../context';
import type { Validation } from '../validation';

/** A burst of saves within this long makes one training run. */
export const SAVE_DEBOUNCE_MS = 800;

export function registerTrainOnSave(ctx: ServerContext, validation: Validation): void {
  const { connection, documents, states, jobs } = ctx;
  const saveReasons = new Map<string, TextDocumentSaveReason>();
  documents.onWillSave((e) => saveReasons.set(e.document.uri, e.reason));
  documents.onDidSave(async (e) => {
    const uri = e.document.uri;
    const reason = saveReasons.get(uri) ?? TextDocumentSaveReason.Manual;
    saveReasons.delete(uri);
    const s = await ctx.settings(uri);
    if (!s.trainOnSave || !ctx.trusted) return;
    if (reason !== TextDocumentSaveReason.Manual && !s.trainOnAutoSave) {
      connection.console.info(
        `yollava: ${path.basename(ctx.fileOf(uri))} auto-saved: not training (yollava.trainOnAutoSave is off)`,
      );
      return;
    }
    await validation.idle(uri);
    const st = states.get(uri);
    if (!st || st.errors) {
      connection.console.info(`yollava: ${path.basename(ctx.fileOf(uri))} saved with errors: not training`);
      return;
    }
    jobs.train(ctx.fileOf(uri), uri, await ctx.jobSettings(uri), SAVE_DEBOUNCE_MS);
  });
}
