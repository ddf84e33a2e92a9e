// The yollava commands. Train, Evaluate, recognition and chat run the bundled CLI as a child process
// (progress in a notification, cancellable); the rest are editor operations.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { openPanel } from './panel';
import type { StatusBar } from './status-bar';

/** Terminal colour/cursor sequences in the CLI's progress output. */
const ANSI_ESCAPE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, 'g');

function activeSubject(): string | undefined {
  const doc = vscode.window.activeTextEditor?.document;
  if (doc && /\.subject\.ya?ml$/.test(doc.fileName)) return doc.fileName;
  void vscode.window.showWarningMessage('yollava: open a *.subject.yaml file first.');
  return undefined;
}

/** The CLI and the settings it should honour: model folder, execution provider, default negative pools. */
export function cliArgs(context: vscode.ExtensionContext): { node: string; cli: string; model: string[] } {
  const cfg = vscode.workspace.getConfiguration('yollava');
  const modelPath = cfg.get<string>('modelPath') ?? '';
  const pools = cfg.get<string[]>('negativePools') ?? [];
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  const args = ['--provider', cfg.get<string>('executionProvider') ?? 'auto'];
  if (modelPath) args.push('--model', path.resolve(root, modelPath));
  if (pools.length) args.push('--pools', pools.map((p) => path.resolve(root, p)).join(','));
  return { node: process.execPath, cli: context.asAbsolutePath('dist/cli.js'), model: args };
}

/** Runs `yollava <args>` and resolves with its stdout; stderr lines become progress messages. */
export function runCli(
  context: vscode.ExtensionContext,
  args: string[],
  title: string,
  status: StatusBar,
): Thenable<string> {
  if (!vscode.workspace.isTrusted)
    return Promise.reject(
      new Error(
        'Restricted Mode: training, evaluation, recognition and chat load models and photos that this workspace names; trust the workspace to use them (validation works meanwhile)',
      ),
    );
  const { node, cli, model } = cliArgs(context);
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    (progress, token) =>
      new Promise<string>((resolve, reject) => {
        status.setBusy(title);
        const child = spawn(node, [cli, ...args, ...model], {
          env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => {
          err += d.toString();
          const last = d
            .toString()
            .trim()
            .split(/[\r\n]/)
            .pop();
          if (last) progress.report({ message: last.replace(ANSI_ESCAPE, '') });
        });
        token.onCancellationRequested(() => child.kill('SIGINT'));
        child.on('close', (code) => {
          status.setBusy(null);
          if (code === 0) resolve(out);
          else reject(new Error(err.trim().split('\n').slice(-3).join(' ') || `exit code ${code}`));
        });
      }),
  );
}

export function registerCommands(context: vscode.ExtensionContext, status: StatusBar): void {
  const reg = (id: string, fn: () => unknown): void => {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async () => {
        try {
          await fn();
        } catch (e) {
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
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, `name: ${name}\ncategory: object\nimages:\n  train: ${path.basename(folder)}\n`);
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

  reg('yollava.train', async () => {
    const file = activeSubject();
    if (!file) return;
    const out = await runCli(context, ['train', file, '--json'], 'Training', status);
    const r = JSON.parse(out) as {
      meta: { name: string; metrics: { train_recognition_weighted: number } };
      seconds: { total: number };
    };
    void vscode.window.showInformationMessage(
      `yollava: trained <${r.meta.name}> in ${r.seconds.total.toFixed(1)} s (training recognition ${r.meta.metrics.train_recognition_weighted.toFixed(3)})`,
    );
  });

  // Train on save: a saved subject file with no errors is trained in the background.
  context.subscriptions.push(
    vscode.workspace.onDidSaveTextDocument(async (doc) => {
      if (
        !/\.subject\.ya?ml$/.test(doc.fileName) ||
        !vscode.workspace.getConfiguration('yollava').get<boolean>('trainOnSave')
      )
        return;
      const errors = vscode.languages
        .getDiagnostics(doc.uri)
        .filter((d) => d.severity === vscode.DiagnosticSeverity.Error);
      if (errors.length) return;
      try {
        await runCli(
          context,
          ['train', doc.fileName, '--json'],
          `Training ${path.basename(doc.fileName)}`,
          status,
        );
      } catch (e) {
        void vscode.window.showErrorMessage(`yollava: ${(e as Error).message}`);
      }
    }),
  );

  reg('yollava.evaluate', async () => {
    const file = activeSubject();
    if (!file) return;
    const r = JSON.parse(await runCli(context, ['eval', file, '--json'], 'Evaluating', status)) as Record<
      string,
      number
    >;
    void vscode.window.showInformationMessage(
      `yollava: recognition weighted ${r['recognition_weighted']!.toFixed(3)} (pos ${r['recognition_positive']!.toFixed(3)} / neg ${r['recognition_negative']!.toFixed(3)})`,
    );
  });

  reg('yollava.openChat', () => {
    const file = activeSubject();
    if (file) openPanel(context, status, file, 'chat');
  });

  reg('yollava.showRecognitionPreview', () => {
    const file = activeSubject();
    if (file) openPanel(context, status, file, 'recognition');
  });
}
