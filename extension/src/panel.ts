// The webview panels, one per subject and purpose: chat (streamed answers, the conversation kept, a stop
// button, an image to ask about), the recognition preview (a thumbnail grid sorted by score), and the
// training dashboard (loss and recognition, live). The panel's script only renders; every request goes
// through the language server. Model output is put on the page as text, under a nonce CSP.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { ResponseError, type LanguageClient } from 'vscode-languageclient/node';
import {
  ChatRequest,
  NO_PHOTOS_TO_SCORE,
  RecognizeRequest,
  TrainingRunRequest,
  type ChatDeltaParams,
  type ChatParams,
  type HostToPanel,
  type JobStateParams,
  type PanelMode,
  type PanelToHost,
  type RecognitionReport,
} from '../../server/src/protocol';
import type { RecognitionDecorations } from './decorations';

const TITLES: Record<PanelMode, string> = { chat: 'Chat', recognition: 'Recognition', training: 'Training' };

interface OpenPanel {
  uri: string;
  mode: PanelMode;
  panel: vscode.WebviewPanel;
  post(m: HostToPanel): void;
  history: ChatParams['history'];
  image?: string;
  asking?: { id: string; cancel: vscode.CancellationTokenSource; text: string };
}

/** The file's stem: what a subject is called until its validation says its name. */
function fileStem(uri: string): string {
  return path.basename(vscode.Uri.parse(uri).fsPath).replace(/\.subject\.ya?ml$/, '');
}

export class Panels implements vscode.Disposable {
  private readonly open_ = new Map<string, OpenPanel>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly client: () => LanguageClient,
    private readonly decorations: RecognitionDecorations,
    /** A subject's `name:` as its last validation read it (titles and prompts use it, not the file name). */
    private readonly nameOf: (uri: string) => string | undefined = () => undefined,
  ) {}

  private subjectName(uri: string): string {
    return this.nameOf(uri) ?? fileStem(uri);
  }

  open(uri: string, mode: PanelMode): void {
    const key = `${mode}:${uri}`;
    const existing = this.open_.get(key);
    if (existing) {
      existing.panel.reveal();
      return;
    }
    const subjectFile = vscode.Uri.parse(uri).fsPath;
    const name = this.subjectName(uri);
    // The webview may load the workspace's files (photos), the extension's own, and dropped photos; a
    // subject file opened without a workspace folder gives its own folder, never the folders above it.
    const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri);
    const roots = [
      ...(folders.length ? folders : [vscode.Uri.file(path.dirname(subjectFile))]),
      vscode.Uri.file(this.context.asAbsolutePath('dist')),
      this.droppedDir(),
    ];
    const panel = vscode.window.createWebviewPanel(
      `yollava.${mode}`,
      `${TITLES[mode]} · <${name}>`,
      vscode.ViewColumn.Beside,
      { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: roots },
    );
    const p: OpenPanel = {
      uri,
      mode,
      panel,
      history: [],
      post: (m) => void panel.webview.postMessage(m),
    };
    this.open_.set(key, p);
    panel.onDidDispose(() => {
      p.asking?.cancel.cancel();
      this.open_.delete(key);
    });
    panel.webview.html = this.html(panel.webview, mode, name);
    panel.webview.onDidReceiveMessage((m: PanelToHost) =>
      this.receive(p, m).catch((e: Error) => p.post({ type: 'error', text: e.message })),
    );
  }

  /** A job's progress: the training dashboards of that subject follow it live. */
  onJobState(s: JobStateParams): void {
    if (s.kind !== 'train' || !s.run) return;
    this.open_.get(`training:${s.uri}`)?.post({ type: 'training', run: s.run });
  }

  onChatDelta(d: ChatDeltaParams): void {
    for (const p of this.open_.values())
      if (p.asking?.id === d.chatId) {
        p.asking.text += d.delta;
        p.post({ type: 'delta', id: d.chatId, text: d.delta });
      }
  }

  dispose(): void {
    for (const p of this.open_.values()) p.panel.dispose();
  }

  private droppedDir(): vscode.Uri {
    return vscode.Uri.joinPath(this.context.globalStorageUri, 'dropped');
  }

  private async receive(p: OpenPanel, m: PanelToHost): Promise<void> {
    switch (m.type) {
      case 'ready':
        p.post({
          type: 'init',
          mode: p.mode,
          subject: path.basename(vscode.Uri.parse(p.uri).fsPath),
          name: this.subjectName(p.uri),
        });
        if (p.mode === 'recognition') await this.recognize(p, undefined);
        if (p.mode === 'training')
          p.post({
            type: 'training',
            run: await this.client().sendRequest(TrainingRunRequest, { uri: p.uri }),
          });
        return;
      case 'ask':
        return this.ask(p, m.text);
      case 'stop':
        p.asking?.cancel.cancel();
        return;
      case 'clear':
        p.history = [];
        return;
      case 'pickImage': {
        const picked = await vscode.window.showOpenDialog({
          canSelectFiles: true,
          filters: { Images: ['png', 'jpg', 'jpeg', 'webp', 'gif', 'bmp'] },
          openLabel: 'Ask about this photo',
        });
        if (picked?.[0]) this.setImage(p, picked[0].fsPath);
        return;
      }
      case 'dropImage': {
        if (m.uri) this.setImage(p, vscode.Uri.parse(m.uri.trim().split(/\r?\n/)[0]!).fsPath);
        else if (m.dataUrl) {
          const match = /^data:image\/(png|jpeg|webp|gif|bmp);base64,(.*)$/.exec(m.dataUrl);
          if (!match) throw new Error('the dropped file is not a PNG, JPEG, WebP, GIF or BMP image');
          const dir = this.droppedDir().fsPath;
          mkdirSync(dir, { recursive: true });
          const file = path.join(
            dir,
            `${Date.now()}-${path.basename(m.name ?? 'image').replace(/[^\w.-]/g, '_')}`,
          );
          writeFileSync(file, Buffer.from(match[2]!, 'base64'));
          this.setImage(p, file);
        }
        return;
      }
      case 'removeImage':
        p.image = undefined;
        p.post({ type: 'imageCleared' });
        return;
      case 'recognize':
        return this.recognize(p, m.folder || undefined, m.photos);
      case 'pickFolder': {
        const picked = await vscode.window.showOpenDialog({
          canSelectFolders: true,
          canSelectFiles: false,
          openLabel: 'Score these photos',
        });
        if (picked?.[0]) await this.recognize(p, picked[0].fsPath);
        return;
      }
    }
  }

  private setImage(p: OpenPanel, file: string): void {
    p.image = file;
    p.post({
      type: 'image',
      name: path.basename(file),
      src: p.panel.webview.asWebviewUri(vscode.Uri.file(file)).toString(),
    });
  }

  private async ask(p: OpenPanel, question: string): Promise<void> {
    if (p.asking) return;
    const id = randomBytes(8).toString('hex');
    const cancel = new vscode.CancellationTokenSource();
    p.asking = { id, cancel, text: '' };
    p.post({ type: 'answerStart', id, question });
    const params: ChatParams = { chatId: id, uri: p.uri, question, history: p.history, image: p.image };
    let answer = '';
    let stopped = false;
    let note: string | undefined;
    try {
      const r = await this.client().sendRequest(ChatRequest, params, cancel.token);
      answer = r.answer;
      stopped = r.stopped;
      const instant = r.modes.filter((x) => x.mode === 'reference').map((x) => `<${x.name}>`);
      if (instant.length) note = `${instant.join(', ')} not trained yet: answered from the reference photos`;
      // The question that loaded the model says where it runs (what executionProvider: auto chose).
      if (r.loadedModel && r.provider)
        note = [note, `model loaded on ${r.provider}`].filter(Boolean).join(' · ');
    } catch (e) {
      // Stopped: the request may end as cancelled; what streamed so far is the answer.
      if (!cancel.token.isCancellationRequested) {
        p.asking = undefined;
        p.post({ type: 'answerEnd', id, text: '', stopped: false, note: (e as Error).message });
        return;
      }
      answer = p.asking.text.trim();
      stopped = true;
    }
    p.asking = undefined;
    p.history.push({ role: 'user', text: question }, { role: 'assistant', text: answer });
    // The server renders at most the newest 64 messages; older ones need not travel with every question.
    if (p.history.length > 64) p.history.splice(0, p.history.length - 64);
    p.post({ type: 'answerEnd', id, text: answer, stopped, note });
  }

  private async recognize(
    p: OpenPanel,
    folder: string | undefined,
    photos?: 'test' | 'train',
  ): Promise<void> {
    const what = folder ?? (photos === 'train' ? 'the training photos' : 'the test photos');
    p.post({ type: 'busy', text: `scoring ${what}…` });
    let report: RecognitionReport;
    try {
      report = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'yollava: recognizing', cancellable: true },
        (_progress, token) =>
          this.client().sendRequest(
            RecognizeRequest,
            // Several folders may be given, separated by commas.
            {
              uri: p.uri,
              targets: folder
                ? folder
                    .split(',')
                    .map((f) => f.trim())
                    .filter(Boolean)
                : undefined,
              photos,
            },
            token,
          ),
      );
    } catch (e) {
      // A subject without test photos: the panel offers its training photos or a folder, not an error.
      if (!folder && photos !== 'train' && e instanceof ResponseError && e.code === NO_PHOTOS_TO_SCORE) {
        p.post({
          type: 'noTestPhotos',
          text: 'This subject has no test photos (images.test). Score its training photos, or choose a folder of photos.',
        });
        return;
      }
      throw e;
    }
    this.decorations.show(report);
    p.post({
      type: 'recognition',
      folder: folder ?? (photos === 'train' ? 'the training photos' : 'the test photos'),
      report: {
        ...report,
        items: report.items.map((i) => ({
          ...i,
          src: p.panel.webview.asWebviewUri(vscode.Uri.file(i.image)).toString(),
        })),
      },
    });
  }

  private html(webview: vscode.Webview, mode: PanelMode, name: string): string {
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.file(this.context.asAbsolutePath('dist/webview.js')));
    const css = webview.asWebviewUri(vscode.Uri.file(this.context.asAbsolutePath('dist/webview.css')));
    const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    return `<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${webview.cspSource} data:; script-src 'nonce-${nonce}'; style-src ${webview.cspSource};">
<link rel="stylesheet" href="${css}">
</head><body data-mode="${mode}"><h3>${TITLES[mode]} · &lt;${esc(name)}&gt;</h3><div id="app"></div><script nonce="${nonce}" src="${script}"></script></body></html>`;
  }
}
