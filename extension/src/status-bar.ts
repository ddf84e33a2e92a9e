// One status bar item: the active subject's name, photo count and problems; a running job's progress.
import * as vscode from 'vscode';
import type { JobStateParams, ValidatedParams } from '../../server/src/protocol';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
  private readonly byUri = new Map<string, ValidatedParams>();
  private readonly jobs = new Map<string, JobStateParams>();

  constructor() {
    this.item.command = 'yollava.train';
    this.item.name = 'yollava';
  }

  update(p: ValidatedParams): void {
    this.byUri.set(p.uri, p);
    this.refresh();
  }

  job(p: JobStateParams): void {
    const key = `${p.kind}:${p.uri}`;
    if (p.state === 'running' || p.state === 'queued') this.jobs.set(key, p);
    else this.jobs.delete(key);
    this.refresh();
  }

  refresh(): void {
    const uri = vscode.window.activeTextEditor?.document.uri.toString();
    const running = [...this.jobs.values()];
    const mine = running.find((j) => j.uri === uri) ?? running[0];
    if (mine) {
      this.item.text = `$(sync~spin) yollava: ${mine.message}`;
      this.item.tooltip = 'Click to open the training dashboard';
      this.item.command = { title: 'Show training', command: 'yollava.showTraining', arguments: [mine.uri] };
      this.item.show();
      return;
    }
    this.item.command = 'yollava.train';
    const p = uri ? this.byUri.get(uri) : undefined;
    if (!p) {
      this.item.hide();
      return;
    }
    const photos = p.images['images.train'] ?? 0;
    const problems = p.errors ? `$(error) ${p.errors}` : p.warnings ? `$(warning) ${p.warnings}` : '$(check)';
    this.item.text = `$(person) <${p.name ?? '?'}> ${photos} photos ${problems}`;
    this.item.tooltip = p.errors ? 'Fix the errors before training' : 'Click to train this subject';
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
