// Browser code of the yollava panel: a chat box, or a recognition gallery (green: the subject is there).
interface VsCodeApi {
  postMessage(m: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const app = document.getElementById('app')!;
const mode = document.body.dataset['mode'];

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

if (mode === 'chat') {
  const log = el('div', { id: 'log' });
  const input = el('input', {
    id: 'question',
    placeholder: 'Ask about your subject, e.g. what color is <bo>?',
    size: 60,
  });
  const send = el('button', { id: 'send', textContent: 'Ask' });
  const ask = (): void => {
    if (!input.value.trim()) return;
    log.append(el('div', { className: 'msg you', textContent: input.value }));
    vscode.postMessage({ type: 'ask', text: input.value });
    input.value = '';
  };
  send.addEventListener('click', ask);
  input.addEventListener('keydown', (e) => e.key === 'Enter' && ask());
  app.append(log, input, send);
} else {
  const grid = el('div', { className: 'grid', id: 'grid' });
  const folder = el('input', {
    id: 'folder',
    placeholder: 'folder of photos (default: photos/test)',
    size: 40,
  });
  const run = el('button', { id: 'run', textContent: 'Recognize' });
  run.addEventListener('click', () => vscode.postMessage({ type: 'recognize', folder: folder.value }));
  app.append(folder, run, grid);
  vscode.postMessage({ type: 'recognize', folder: '' });
}

window.addEventListener(
  'message',
  (
    e: MessageEvent<{
      type: string;
      text?: string;
      results?: { src: string; present: boolean; score: number; image: string }[];
    }>,
  ) => {
    const m = e.data;
    if (m.type === 'answer')
      document.getElementById('log')!.append(el('div', { className: 'msg', textContent: m.text ?? '' }));
    if (m.type === 'error')
      app.append(el('div', { className: 'msg error', textContent: `error: ${m.text}` }));
    if (m.type === 'recognition') {
      const grid = document.getElementById('grid')!;
      grid.replaceChildren(
        ...(m.results ?? []).map((r) =>
          el('img', {
            src: r.src,
            className: r.present ? 'yes' : 'no',
            title: `${r.image}: ${r.score.toFixed(2)}`,
          }),
        ),
      );
    }
  },
);
