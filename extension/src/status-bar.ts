// One status bar item: the active subject's name, photo count and problems; the job in progress.
import * as vscode from 'vscode';
import type { ValidatedParams } from '../../server/src/protocol';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
  private readonly byUri = new Map<string, ValidatedParams>();
  private busy: string | null = null;

  constructor() {
    this.item.command = 'yollava.train';
    this.item.name = 'yollava';
  }

  update(p: ValidatedParams): void {
    this.byUri.set(p.uri, p);
    this.showFor(vscode.window.activeTextEditor?.document.uri.toString());
  }

  setBusy(text: string | null): void {
    this.busy = text;
    this.showFor(vscode.window.activeTextEditor?.document.uri.toString());
  }

  showFor(uri: string | undefined): void {
    const p = uri ? this.byUri.get(uri) : undefined;
    if (this.busy) {
      this.item.text = `$(sync~spin) yollava: ${this.busy}`;
      this.item.show();
      return;
    }
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
