// Explorer decorations from the last recognition preview: ✓ or ✗ on each scored image, with the score
// and threshold in the tooltip, and the answers that contradict a known label in the error colour.
import * as vscode from 'vscode';
import type { RecognitionReport } from '../../server/src/protocol';

interface Mark {
  name: string;
  score: number;
  threshold: number;
  present: boolean;
  wrong?: boolean;
}

export class RecognitionDecorations implements vscode.FileDecorationProvider, vscode.Disposable {
  private readonly marks = new Map<string, Mark>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri[]>();
  readonly onDidChangeFileDecorations = this.changed.event;
  private readonly registration = vscode.window.registerFileDecorationProvider(this);

  show(report: RecognitionReport): void {
    const uris: vscode.Uri[] = [];
    for (const item of report.items) {
      const uri = vscode.Uri.file(item.image);
      this.marks.set(uri.fsPath, {
        name: report.name,
        score: item.score,
        threshold: report.threshold,
        present: item.present,
        wrong: item.wrong,
      });
      uris.push(uri);
    }
    this.changed.fire(uris);
  }

  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    const m = this.marks.get(uri.fsPath);
    if (!m) return undefined;
    return {
      badge: m.present ? '✓' : '✗',
      tooltip: `<${m.name}> ${m.present ? 'recognized' : 'not recognized'}: score ${m.score.toFixed(2)} (threshold ${m.threshold.toFixed(2)})${m.wrong ? ' — wrong for its label' : ''}`,
      color: m.wrong ? new vscode.ThemeColor('errorForeground') : undefined,
      propagate: false,
    };
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
  }
}
