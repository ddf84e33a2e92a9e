// The yollava commands. Everything heavy is a request to the language server (protocol.ts), which runs
// it as a job with its own progress; the rest are editor operations.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { LSPErrorCodes, ResponseError, type LanguageClient } from 'vscode-languageclient/node';
import {
  CancelJobRequest,
  EvaluateRequest,
  NegativePoolsRequest,
  SavedByHandNotification,
  TrainRequest,
} from '../../server/src/protocol';
import type { Panels } from './panel';

const SUBJECT_FILE = /\.subject\.ya?ml$/;

/** The subject a command acts on: its argument (CodeLens), else the active editor's file. */
function subjectUri(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg instanceof vscode.Uri) return arg.toString();
  const doc = vscode.window.activeTextEditor?.document;
  if (doc && SUBJECT_FILE.test(doc.fileName)) return doc.uri.toString();
  void vscode.window.showWarningMessage('yollava: open a *.subject.yaml file first.');
  return undefined;
}

export function registerCommands(
  context: vscode.ExtensionContext,
  client: () => LanguageClient,
  panels: Panels,
): void {
  const reg = (id: string, fn: (arg?: unknown) => unknown): void => {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (arg?: unknown) => {
        try {
          await fn(arg);
        } catch (e) {
          // A job the user cancelled, or that a newer save replaced, is no error to show.
          if (e instanceof ResponseError && e.code === LSPErrorCodes.RequestCancelled) return;
          void vscode.window.showErrorMessage(`yollava: ${(e as Error).message}`);
        }
      }),
    );
  };

  reg('yollava.newSubjectFromFolder', async () => {
    const picked = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      openLabel: 'Use these photos',
    });
    if (!picked?.[0]) return;
    const folder = picked[0].fsPath;
    const name = await vscode.window.showInputBox({
      prompt: 'Name of the subject (becomes <name>)',
      validateInput: (v) =>
        /^[A-Za-z][A-Za-z0-9_-]{0,31}$/.test(v) ? null : 'letters, digits, _ or -, starting with a letter',
    });
    if (!name) return;
    const dir = path.dirname(folder);
    const file = path.join(dir, `${name}.subject.yaml`);
    if (existsSync(file)) throw new Error(`${file} already exists`);
    // Without negatives the concept learns only "yes": offer the pools the workspace already uses.
    const pools = await client().sendRequest(NegativePoolsRequest, { uri: vscode.Uri.file(file).toString() });
    let chosen: string[] = [];
    if (pools.length) {
      const picked = await vscode.window.showQuickPick(
        pools.map((p) => ({
          label: path.relative(dir, p.folder) || '.',
          description: `${p.images}${p.images >= 10_000 ? '+' : ''} images · used by ${p.usedBy.join(', ')}`,
          picked: true,
          folder: p.folder,
        })),
        {
          canPickMany: true,
          title: `Negative photos for <${name}>`,
          placeHolder: 'Folders of photos that are not your subject (recognition learns "no" from them)',
        },
      );
      if (!picked) return;
      chosen = picked.map((p) => path.relative(dir, p.folder).split(path.sep).join('/') || '.');
    } else
      void vscode.window.showWarningMessage(
        `yollava: this workspace has no negative pools yet: add negatives.pools to ${name}.subject.yaml (folders of other photos), or <${name}> will say yes to every photo`,
      );
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      file,
      `name: ${name}\ncategory: object\nimages:\n  train: ${path.basename(folder)}\n` +
        (chosen.length ? `negatives:\n  pools: [${chosen.map((c) => JSON.stringify(c)).join(', ')}]\n` : ''),
    );
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(file));
  });

  reg('yollava.selectModel', async () => {
    const picked = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      openLabel: 'Use this model folder',
    });
    if (!picked?.[0]) return;
    await vscode.workspace
      .getConfiguration('yollava')
      .update('modelPath', picked[0].fsPath, vscode.ConfigurationTarget.Workspace);
  });

  // Progress shows as the server's work-done progress (percent, loss, ETA, Cancel).
  reg('yollava.train', async (arg) => {
    const uri = subjectUri(arg);
    if (!uri) return;
    const r = await client().sendRequest(TrainRequest, { uri });
    void vscode.window.showInformationMessage(
      `yollava: trained <${r.name}> in ${r.seconds.toFixed(1)} s (training recognition ${r.recognition.toFixed(3)}, epoch ${r.bestEpoch})`,
    );
  });

  // Ctrl+S in a subject file: the save itself, then word that the user made it. Web VS Code folds a
  // Ctrl+S into an auto-save that fires at the same moment and reports only the auto-save; this says
  // what really happened, so that the save trains (train-on-save.ts).
  // The word goes out even when the document is still dirty once the save command returns: a Ctrl+S that
  // web VS Code joined to an auto-save already under way returns before that save lands (the server
  // trains what is on disk, after its debounce, so the save that lands is the one trained).
  reg('yollava.saveByHand', async () => {
    const doc = vscode.window.activeTextEditor?.document;
    await vscode.commands.executeCommand('workbench.action.files.save');
    if (doc?.languageId === 'yollava-subject')
      await client().sendNotification(SavedByHandNotification, { uri: doc.uri.toString() });
  });

  reg('yollava.cancelTraining', async (arg) => {
    const uri = subjectUri(arg);
    if (uri) await client().sendRequest(CancelJobRequest, { uri, kind: 'train' });
  });

  reg('yollava.evaluate', async (arg) => {
    const uri = subjectUri(arg);
    if (!uri) return;
    const r = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'yollava: evaluating', cancellable: true },
      (_progress, token) => client().sendRequest(EvaluateRequest, { uri }, token),
    );
    void vscode.window.showInformationMessage(
      `yollava: <${r.name}> recognition weighted ${r.weighted.toFixed(3)} (pos ${r.positive.toFixed(3)} / neg ${r.negative.toFixed(3)}; calibrated ${r.calibrated.toFixed(3)}) on ${r.positives} held-out photos and ${r.negatives} negatives`,
    );
  });

  reg('yollava.openChat', (arg) => {
    const uri = subjectUri(arg);
    if (uri) panels.open(uri, 'chat');
  });

  reg('yollava.showRecognitionPreview', (arg) => {
    const uri = subjectUri(arg);
    if (uri) panels.open(uri, 'recognition');
  });

  reg('yollava.showTraining', (arg) => {
    const uri = subjectUri(arg);
    if (uri) panels.open(uri, 'training');
  });
}
