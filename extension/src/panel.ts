// The webview panel: chat with a subject, and a recognition preview over a folder of photos.
import path from 'node:path';
import * as vscode from 'vscode';
import { runCli } from './commands';
import type { StatusBar } from './status-bar';

export function openPanel(
  context: vscode.ExtensionContext,
  status: StatusBar,
  subjectFile: string,
  mode: 'chat' | 'recognition',
): void {
  const panel = vscode.window.createWebviewPanel(
    'yollava',
    `yollava: ${path.basename(subjectFile)}`,
    vscode.ViewColumn.Beside,
    {
      enableScripts: true,
      localResourceRoots: [
        vscode.Uri.file(path.dirname(path.dirname(subjectFile))),
        vscode.Uri.file(context.asAbsolutePath('dist')),
      ],
    },
  );
  const script = panel.webview.asWebviewUri(vscode.Uri.file(context.asAbsolutePath('dist/webview.js')));
  panel.webview.html = `<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${panel.webview.cspSource} data:; script-src ${panel.webview.cspSource}; style-src 'unsafe-inline';">
<style>body{font-family:var(--vscode-font-family);color:var(--vscode-foreground)} .msg{margin:6px 0} .you{font-weight:bold} img{width:96px;height:96px;object-fit:cover;margin:4px;border:3px solid transparent} img.yes{border-color:#2a9d3f} img.no{border-color:#d62828} .grid{display:flex;flex-wrap:wrap}</style>
</head><body data-mode="${mode}"><h3>${mode === 'chat' ? 'Chat' : 'Recognition preview'}: ${path.basename(subjectFile)}</h3><div id="app"></div><script src="${script}"></script></body></html>`;
  panel.webview.onDidReceiveMessage(async (m: { type: string; text?: string; folder?: string }) => {
    try {
      if (m.type === 'ask' && m.text) {
        const out = JSON.parse(
          await runCli(context, ['chat', subjectFile, '--ask', m.text, '--json'], 'Thinking', status),
        ) as { answer: string };
        await panel.webview.postMessage({ type: 'answer', text: out.answer });
      } else if (m.type === 'recognize') {
        const folder = m.folder || path.join(path.dirname(subjectFile), 'photos', 'test');
        const out = JSON.parse(
          await runCli(
            context,
            ['recognize', subjectFile, path.resolve(path.dirname(subjectFile), folder), '--json'],
            'Recognizing',
            status,
          ),
        ) as { image: string; present: boolean; score: number }[];
        await panel.webview.postMessage({
          type: 'recognition',
          results: out.map((r) => ({
            ...r,
            src: panel.webview.asWebviewUri(vscode.Uri.file(r.image)).toString(),
          })),
        });
      }
    } catch (e) {
      await panel.webview.postMessage({ type: 'error', text: (e as Error).message });
    }
  });
}
