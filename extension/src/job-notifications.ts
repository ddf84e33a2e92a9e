// A notification per running training job, with percent, loss and ETA and a Cancel button. The language
// client shows the server's work-done progress only in the status bar, where it cannot be cancelled.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { CancelJobRequest, type JobStateParams } from '../../server/src/protocol';

interface Shown {
  report(message: string, percent: number): void;
  end(): void;
}

export class JobNotifications {
  private readonly shown = new Map<string, Shown>();

  constructor(private readonly client: () => LanguageClient) {}

  onJobState(p: JobStateParams): void {
    if (p.kind !== 'train') return;
    const key = p.uri;
    if (p.state === 'running') {
      (this.shown.get(key) ?? this.show(p)).report(p.message, p.run?.percent ?? 0);
    } else if (p.state !== 'queued') {
      this.shown.get(key)?.end();
      this.shown.delete(key);
    }
  }

  private show(p: JobStateParams): Shown {
    let done = 0;
    let end!: () => void;
    let progress: vscode.Progress<{ message?: string; increment?: number }> | undefined;
    let pending: { message: string; percent: number } | undefined;
    const name =
      p.run?.name ??
      vscode.Uri.parse(p.uri)
        .path.split('/')
        .pop()!
        .replace(/\.subject\.ya?ml$/, '');
    const shown: Shown = {
      report: (message, percent) => {
        if (!progress) {
          pending = { message, percent };
          return;
        }
        progress.report({ message, increment: Math.max(0, percent - done) });
        done = Math.max(done, percent);
      },
      end: () => end?.(),
    };
    this.shown.set(p.uri, shown);
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `yollava: <${name}>`, cancellable: true },
      (prog, token) =>
        new Promise<void>((resolve) => {
          progress = prog;
          end = resolve;
          token.onCancellationRequested(() => {
            void this.client().sendRequest(CancelJobRequest, { uri: p.uri, kind: 'train' });
          });
          if (pending) shown.report(pending.message, pending.percent);
        }),
    );
    return shown;
  }
}
