// Hostile files, round two (issue 33), as the language server meets them: a FIFO named in a comment must
// not hold hovers (nor, through libuv's pool, everything else), Restricted Mode shows no thumbnail of a
// file outside the workspace, and the "Create folder" quick fix creates nothing outside it. Each case has
// its own time bound; the server must answer other requests meanwhile.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeSubjectWorkspace } from '../../server/src/engine/toyworld/workspace';
import { ChatRequest, Commands } from '../../server/src/protocol';
import { LspClient } from '../helpers/lsp-client';
import { RED_MUG, writeTinyPersonalizationModel } from '../helpers/tiny-model';

type HoverResult = { contents: { value: string } } | null;

/** The request's answer, or a failure once `ms` have passed without one. */
async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The server process's peak resident memory so far, in MB (Linux: VmHWM). */
function serverPeakMb(client: LspClient): number {
  const status = readFileSync(`/proc/${client.proc.pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/** Every case's bound on the server's memory: far above its healthy size, far below a runaway. */
const SERVER_MB = 1500;

describe('hostile files in the editor', () => {
  let ws = '';
  let outside = '';
  let file = '';
  let text = '';
  const clients: LspClient[] = [];
  before(async () => {
    ws = mkdtempSync(path.join(tmpdir(), 'yollava-hostile-editor-'));
    outside = mkdtempSync(path.join(tmpdir(), 'yollava-hostile-outside-'));
    writeTinyPersonalizationModel(path.join(ws, 'model'));
    file = await writeSubjectWorkspace(ws, {
      name: 'bo',
      object: RED_MUG,
      train: 4,
      test: 0,
      negatives: 2,
      model: '../model',
    });
    text = readFileSync(file, 'utf8');
    execFileSync('mkfifo', [path.join(ws, 'bo', 'pipe.png')]);
    copyFileSync(path.join(ws, 'bo', 'photos', 'train', '000.png'), path.join(outside, 'secret.png'));
  });
  after(async () => {
    for (const c of clients) {
      if (c.proc.exitCode === null)
        assert.ok(serverPeakMb(c) <= SERVER_MB, `a server peaked at ${serverPeakMb(c).toFixed(0)} MB`);
      await c.stop();
    }
    rmSync(ws, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  /** Opens `doc` and returns its uri and the position of `needle` in it. */
  async function openAt(
    client: LspClient,
    doc: string,
    needle: string,
  ): Promise<{ uri: string; position: { line: number; character: number } }> {
    const uri = client.open(file, doc);
    await client.waitFor(uri, () => true);
    const lines = doc.split('\n');
    const line = lines.findIndex((l) => l.includes(needle));
    return { uri, position: { line, character: lines[line]!.indexOf(needle) + 2 } };
  }

  it('hovers on a FIFO named in a comment answer at once, and completion still works beside them', async () => {
    const client = await LspClient.start(ws);
    clients.push(client);
    const doc = `${text}# see pipe.png\n`;
    const { uri, position } = await openAt(client, doc, 'pipe.png');
    // Four at once would take all four of libuv's pool threads if any of them opened the FIFO blocking.
    const hovers = await within(
      5000,
      'four hovers on a FIFO',
      Promise.all(
        Array.from({ length: 4 }, () =>
          client.request<HoverResult>('textDocument/hover', { textDocument: { uri }, position }),
        ),
      ),
    );
    for (const h of hovers) assert.match(h!.contents.value, /not a readable image/);
    await within(
      5000,
      'completion after the hovers',
      client.request('textDocument/completion', {
        textDocument: { uri },
        position: { line: 0, character: 0 },
      }),
    );
    client.close(uri);
  });

  it('Restricted Mode: no thumbnail of a photo outside the workspace; trusted, it is shown', async () => {
    const secret = path.join(outside, 'secret.png');
    const doc = `${text}# compare ${secret}\n`;
    const restricted = await LspClient.start(ws, {}, { trusted: false });
    clients.push(restricted);
    const r = await openAt(restricted, doc, 'secret.png');
    const h = await within(
      5000,
      'hover, restricted',
      restricted.request<HoverResult>('textDocument/hover', {
        textDocument: { uri: r.uri },
        position: r.position,
      }),
    );
    assert.match(h!.contents.value, /outside the workspace: not shown in Restricted Mode/);
    assert.doesNotMatch(h!.contents.value, /data:image/);
    restricted.close(r.uri);
    // The same hover in a trusted workspace shows it: the test above can tell the difference.
    const trusted = await LspClient.start(ws);
    clients.push(trusted);
    const t = await openAt(trusted, doc, 'secret.png');
    const th = await within(
      5000,
      'hover, trusted',
      trusted.request<HoverResult>('textDocument/hover', {
        textDocument: { uri: t.uri },
        position: t.position,
      }),
    );
    assert.match(th!.contents.value, /data:image\/png;base64,/);
    trusted.close(t.uri);
  });

  it('a 50 MB document and a glob over /usr: each gets its diagnostic in bounded time, and completion still answers', async () => {
    const client = await LspClient.start(ws);
    clients.push(client);
    const normal = client.open(file, text);
    await client.waitFor(normal, () => true);
    const huge = path.join(ws, 'bo', 'huge.subject.yaml');
    const hugeUri = client.open(huge, `name: huge\ncategory: object\n${'# padding\n'.repeat(5_000_000)}`);
    const d = await client.waitFor(hugeUri, (ds) => ds.length > 0, 20_000);
    assert.match(
      String(d[0]!.message),
      /the file is 47\.7 MB; a subject file is a few hundred bytes, and one over 1 MB is not checked/,
    );
    const globUri = client.open(
      path.join(ws, 'bo', 'glob.subject.yaml'),
      'name: globby\ncategory: object\nimages:\n  train: /usr/**/*.png\n',
    );
    const g = await client.waitFor(
      globUri,
      (ds) => ds.some((x) => String(x.message).includes('walks more than')),
      20_000,
    );
    assert.match(
      String(g.find((x) => String(x.message).includes('walks more than'))!.message),
      /images\.train: "\/usr\/\*\*\/\*\.png" walks more than 20000 entries under \/usr; name a smaller folder/,
    );
    await within(
      5000,
      'completion after the hostile documents',
      client.request('textDocument/completion', {
        textDocument: { uri: normal },
        position: { line: 0, character: 0 },
      }),
    );
    for (const u of [normal, hugeUri, globUri]) client.close(u);
  });

  it('a chat history far longer than the model takes is trimmed, oldest first, and the question answered', async () => {
    const client = await LspClient.start(ws);
    clients.push(client);
    const uri = client.open(file, text);
    await client.waitFor(uri, (ds) => !ds.some((x) => x.severity === 1));
    // 200 messages of 105 words: the server keeps the newest 64, about 6,700 tokens against the tiny
    // model's 2,048 positions, and the oldest of those go until the prompt fits.
    const words = 'the red mug is on the table '.repeat(15);
    const history = Array.from({ length: 200 }, (_, i) => ({
      role: i % 2 ? ('assistant' as const) : ('user' as const),
      text: words,
    }));
    const a = await within(
      60_000,
      'a chat turn with a long history',
      client.request(ChatRequest, { chatId: 'long', uri, question: 'what is <bo> ?', history }),
    );
    assert.equal(typeof a.answer, 'string');
    assert.ok(serverPeakMb(client) <= SERVER_MB);
    client.close(uri);
  });

  it('"Create folder" is offered inside the workspace only, and the command refuses a folder outside', async () => {
    const client = await LspClient.start(ws);
    clients.push(client);
    const away = path.join(outside, 'made-by-yollava');
    const doc = text.replace('train: photos/train', `train: ${away}`);
    const uri = client.open(file, doc);
    const d = await client.waitFor(uri, (ds) => ds.some((x) => x.code === 'missing-folder'));
    const actions = await client.request<{ title: string }[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: d[0]!.range,
      context: { diagnostics: d.filter((x) => x.code === 'missing-folder') },
    });
    assert.ok(!actions.some((a) => a.title.startsWith('Create folder')), JSON.stringify(actions));
    await client.request('workspace/executeCommand', {
      command: Commands.createFolder,
      arguments: [away, uri],
    });
    assert.ok(!existsSync(away), 'a folder outside the workspace was created');
    // Inside, the quick fix is there (the check above is not simply "never").
    const inside = text.replace('train: photos/train', 'train: photos/later');
    client.close(uri);
    const uri2 = client.open(file, inside);
    const d2 = await client.waitFor(uri2, (ds) =>
      ds.some((x) => x.code === 'missing-folder' && String(x.message).includes('photos/later')),
    );
    const a2 = await client.request<{ title: string }[]>('textDocument/codeAction', {
      textDocument: { uri: uri2 },
      range: d2[0]!.range,
      context: { diagnostics: d2.filter((x) => x.code === 'missing-folder') },
    });
    assert.ok(a2.some((a) => a.title.startsWith('Create folder')));
    client.close(uri2);
  });
});
