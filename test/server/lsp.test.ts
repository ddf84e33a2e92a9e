// The language server over stdio, driven by a real LSP client: open, change and close; diagnostics with
// exact ranges; completion; hover; links; code actions; inlay hints; folder watching.
import { NegativePoolsRequest, ValidatedNotification } from '../../server/src/protocol';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { writeSubjectWorkspace } from '../../server/src/engine/toyworld/workspace';
import { LspClient } from '../helpers/lsp-client';

const root = path.join(__dirname, '..', '..');
const msg = (d: { message: string | { value: string } }): string =>
  typeof d.message === 'string' ? d.message : d.message.value;

describe('language server over stdio', () => {
  let ws = '';
  let file = '';
  let client: LspClient;
  let text = '';

  before(async () => {
    if (!existsSync(path.join(root, 'dist', 'server.js')))
      spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
    ws = mkdtempSync(path.join(tmpdir(), 'yollava-lsp-'));
    file = await writeSubjectWorkspace(ws, {
      name: 'bo',
      object: { kind: 'mug', color: 'red', pattern: 'striped', accessory: 'none' },
      train: 5,
      test: 2,
      negatives: 6,
    });
    text = readFileSync(file, 'utf8');
    client = await LspClient.start(ws);
  });
  after(async () => {
    await client.stop();
  });

  it('a valid subject gets an empty diagnostic list; a typo then gets one at the exact range', async () => {
    const uri = client.open(file, text);
    await client.waitFor(uri, (d) => d.length === 0);
    // line 1 is "category: object": replace "object" (characters 10–16) with "objet"
    client.change(uri, 2, { start: { line: 1, character: 10 }, end: { line: 1, character: 16 } }, 'objet');
    const d = await client.waitFor(uri, (ds) => ds.length === 1, 10_000, 2);
    assert.deepEqual(d[0]!.range, { start: { line: 1, character: 10 }, end: { line: 1, character: 15 } });
    assert.match(msg(d[0]!), /^category: must be one of/);
    assert.equal(d[0]!.severity, 1);
    client.change(uri, 3, { start: { line: 1, character: 10 }, end: { line: 1, character: 15 } }, 'object');
    await client.waitFor(uri, (ds) => ds.length === 0, 10_000, 3);
  });

  it('YAML syntax errors and dataset problems: missing folder, corrupt image, duplicates, leakage', async () => {
    const uri = client.open(file, text);
    client.change(
      uri,
      10,
      { start: { line: 4, character: 9 }, end: { line: 4, character: 21 } },
      'photos/nope',
    );
    let d = await client.waitFor(uri, (ds) => ds.some((x) => x.code === 'missing-folder'), 10_000, 10);
    assert.deepEqual(d.find((x) => x.code === 'missing-folder')!.range.start, { line: 4, character: 9 });
    client.change(
      uri,
      11,
      { start: { line: 4, character: 9 }, end: { line: 4, character: 20 } },
      'photos/train',
    );
    await client.waitFor(uri, (ds) => ds.length === 0, 10_000, 11);
    // a non-image named .png, and a test photo that is a training photo
    writeFileSync(path.join(ws, 'bo', 'photos', 'train', '900.png'), 'definitely not an image');
    copyFileSync(
      path.join(ws, 'bo', 'photos', 'train', '000.png'),
      path.join(ws, 'bo', 'photos', 'test', '900.png'),
    );
    d = await client.waitFor(
      uri,
      (ds) => ds.some((x) => x.code === 'unreadable-image') && ds.some((x) => x.code === 'leakage'),
    );
    const unreadable = d.find((x) => x.code === 'unreadable-image')!;
    assert.match(msg(unreadable), /900\.png is not a decodable image.*; training leaves them out$/);
    // Enough good photos remain: a warning, so that saving still trains.
    assert.equal(unreadable.severity, 2);
    rmSync(path.join(ws, 'bo', 'photos', 'train', '900.png'));
    rmSync(path.join(ws, 'bo', 'photos', 'test', '900.png'));
    await client.waitFor(uri, (ds) => ds.length === 0);
    client.change(
      uri,
      12,
      { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      'x: [unclosed\n',
    );
    d = await client.waitFor(uri, (ds) => ds.some((x) => msg(x).startsWith('YAML:')), 10_000, 12);
    // The folders stay watched while the YAML is broken: a photo added then validates the file again
    // (and refreshes the CodeLens, whose staleness it changes).
    const validations = () => client.received(ValidatedNotification).filter((p) => p.uri === uri).length;
    // Counted only once validations have been quiet for a while, so that a late watcher event from the
    // photos removed above cannot stand in for the one this checks.
    let before = validations();
    for (let quietSince = Date.now(); Date.now() - quietSince < 1500;) {
      await new Promise((r) => setTimeout(r, 100));
      if (validations() !== before) [before, quietSince] = [validations(), Date.now()];
    }
    const added = path.join(ws, 'bo', 'photos', 'train', '901.png');
    copyFileSync(path.join(ws, 'bo', 'photos', 'train', '000.png'), added);
    await client.until('a validation after a photo was added', () => validations() > before, 10_000);
    rmSync(added);
    client.change(uri, 13, { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } }, '');
    await client.waitFor(uri, (ds) => ds.length === 0, 10_000, 13);
  });

  it('too few photos is an error, fewer than five a warning; a name another subject uses is an error with a rename fix', async () => {
    const small = path.join(ws, 'small');
    mkdirSync(path.join(small, 'p'), { recursive: true });
    for (let i = 0; i < 4; i++)
      copyFileSync(path.join(ws, 'bo', 'photos', 'train', `00${i}.png`), path.join(small, 'p', `${i}.png`));
    const sfile = path.join(small, 'small.subject.yaml');
    const stext = 'name: bo\ncategory: pet\nimages:\n  train: p\n';
    writeFileSync(sfile, stext);
    const uri = client.open(sfile, stext);
    const d = await client.waitFor(
      uri,
      (ds) => ds.some((x) => x.code === 'few-images') && ds.some((x) => x.code === 'name-collision'),
    );
    assert.equal(d.find((x) => x.code === 'few-images')!.severity, 2);
    const collision = d.find((x) => x.code === 'name-collision')!;
    assert.deepEqual(collision.range, { start: { line: 0, character: 6 }, end: { line: 0, character: 8 } });
    const actions = await client.request<
      { title: string; edit?: { changes: Record<string, { newText: string }[]> } }[]
    >('textDocument/codeAction', {
      textDocument: { uri },
      range: collision.range,
      context: { diagnostics: [collision] },
    });
    const rename = actions.find((a) => a.title.startsWith('Rename to'))!;
    assert.equal(rename.edit!.changes[uri]![0]!.newText, 'bo2');
    rmSync(path.join(small, 'p', '3.png'));
    rmSync(path.join(small, 'p', '2.png'));
    await client.waitFor(uri, (ds) => ds.some((x) => x.code === 'too-few-images' && x.severity === 1));
    writeFileSync(sfile, stext.replace('name: bo', 'name: small'));
    client.close(uri);
  });

  it('completion offers missing keys, enum values and folders; hover shows the schema description and image counts', async () => {
    const uri = client.open(file, text);
    await client.waitFor(uri, (d) => d.length === 0);
    const lines = text.split('\n');
    const last = lines.length - 1;
    client.change(
      uri,
      20,
      { start: { line: last, character: 0 }, end: { line: last, character: lines[last]!.length } },
      'tr',
    );
    // Half a key does not parse; hover below still counts the folders named before it.
    await client.waitFor(
      uri,
      (d) => d.some((x) => typeof x.message === 'string' && x.message.includes('YAML')),
      10_000,
      20,
    );
    const keys = await client.request<{ label: string }[]>('textDocument/completion', {
      textDocument: { uri },
      position: { line: last, character: 2 },
    });
    assert.ok(keys.some((k) => k.label === 'training'));
    assert.ok(!keys.some((k) => k.label === 'name'), 'name is already present');
    const cat = await client.request<{ label: string }[]>('textDocument/completion', {
      textDocument: { uri },
      position: { line: 1, character: 10 },
    });
    assert.deepEqual(cat.map((c) => c.label).sort(), ['fiction', 'landmark', 'object', 'person', 'pet']);
    const folders = await client.request<{ label: string }[]>('textDocument/completion', {
      textDocument: { uri },
      position: { line: 4, character: 9 },
    });
    assert.ok(folders.some((f) => f.label === 'photos'));
    const h = await client.request<{ contents: { value: string } }>('textDocument/hover', {
      textDocument: { uri },
      position: { line: 1, character: 3 },
    });
    assert.match(h.contents.value, /What kind of subject this is/);
    const h2 = await client.request<{ contents: { value: string } }>('textDocument/hover', {
      textDocument: { uri },
      position: { line: 4, character: 4 },
    });
    assert.match(h2.contents.value, /5 image\(s\)/);
    assert.match(h2.contents.value, /data:image\/png;base64,/);
    client.change(uri, 21, { start: { line: last, character: 0 }, end: { line: last, character: 2 } }, '');
    await client.waitFor(uri, (d) => d.length === 0, 10_000, 21);
  });

  it('the CodeLens on the name says whether the subject is trained, how well and how long ago, and whether it is stale', async () => {
    const uri = client.open(file, text);
    await client.waitFor(uri, (d) => d.length === 0);
    let lenses = await client.request<{ command: { title: string; command: string } }[]>(
      'textDocument/codeLens',
      { textDocument: { uri } },
    );
    assert.deepEqual(
      lenses.map((l) => l.command.title),
      ['not trained yet', 'Train', 'Evaluate', 'Chat', 'Preview'],
    );
    assert.deepEqual(
      lenses.map((l) => l.command.command),
      ['', 'yollava.train', 'yollava.evaluate', 'yollava.openChat', 'yollava.showRecognitionPreview'],
    );
    const dir = path.join(ws, 'bo', '.yollava', 'bo');
    mkdirSync(dir, { recursive: true });
    // A concept stores its training recognition raw, as recognize decides, and at the threshold that was
    // best for those same scores; the lens shows the raw one and names where it was measured.
    // Every field concept.json must hold (concept-meta.ts validates them before the lens reads any).
    const complete = (more: object): string =>
      JSON.stringify({
        format: 'yollava-concept/1',
        name: 'bo',
        tokens: ['<bo>'],
        k: 0,
        headRows: 'all',
        init: 'vocab-mean',
        baseModel: { fingerprint: 'f', dir: 'model' },
        dataHash: 'd',
        usedImages: [],
        weightsFile: 'concept-0123456789abcdef.safetensors',
        weightsSha256: '0'.repeat(64),
        threshold: 0,
        ...more,
      });
    const writeMeta = (createdAt: string, weighted: number, more: object = {}): void =>
      writeFileSync(
        path.join(dir, 'concept.json'),
        complete({
          createdAt,
          bestEpoch: 7,
          metrics: { train_recognition_weighted: 0.96, train_recognition_raw_weighted: weighted },
          ...more,
        }),
      );
    writeMeta('2026-11-29T01:02:03Z', 0.9125);
    lenses = await client.request('textDocument/codeLens', { textDocument: { uri } });
    // The photos were written after that date: the concept is stale.
    assert.match(
      lenses[0]!.command.title,
      /^recognition 0\.91 \(training photos\) · trained \d+ (h|days) ago · stale: changed since$/,
    );
    const justNow = new Date(Date.now() + 1000).toISOString();
    writeMeta(justNow, 0.5);
    lenses = await client.request('textDocument/codeLens', { textDocument: { uri } });
    assert.equal(lenses[0]!.command.title, 'recognition 0.50 (training photos) · trained just now');
    // A concept trained before the raw figure was stored has only the one at its own threshold: shown
    // as such.
    writeFileSync(
      path.join(dir, 'concept.json'),
      complete({ createdAt: justNow, bestEpoch: 7, metrics: { train_recognition_weighted: 0.96 } }),
    );
    lenses = await client.request('textDocument/codeLens', { textDocument: { uri } });
    assert.equal(
      lenses[0]!.command.title,
      'recognition 0.96 (training photos, own threshold) · trained just now',
    );
    // What the concept says of itself, written once after training: after the commands, so that
    // however long it is they stay on screen, and clipped.
    writeMeta(justNow, 0.5, { selfDescription: '<bo> is a red striped mug.' });
    lenses = await client.request('textDocument/codeLens', { textDocument: { uri } });
    assert.deepEqual(
      lenses.map((l) => [l.command.title, l.command.command]),
      [
        ['recognition 0.50 (training photos) · trained just now', 'yollava.showTraining'],
        ['Train', 'yollava.train'],
        ['Evaluate', 'yollava.evaluate'],
        ['Chat', 'yollava.openChat'],
        ['Preview', 'yollava.showRecognitionPreview'],
        ['says: <bo> is a red striped mug.', 'yollava.openChat'],
      ],
    );
    writeMeta(justNow, 0.5, { selfDescription: `<bo> is ${'a very red '.repeat(40)}mug.` });
    lenses = await client.request('textDocument/codeLens', { textDocument: { uri } });
    assert.equal(lenses[1]!.command.title, 'Train');
    assert.ok(
      lenses.every((l) => l.command.title.length <= 100),
      JSON.stringify(lenses.map((l) => l.command.title)),
    );
    // Tampered by hand: the lens says why the concept cannot be used and offers to train again, at once
    // even when the file is huge (it is refused by its size, not parsed).
    writeMeta(justNow, 0.5, { k: 1e9 });
    lenses = await client.request('textDocument/codeLens', { textDocument: { uri } });
    assert.deepEqual(
      [lenses[0]!.command.title, lenses[0]!.command.command],
      [
        'this concept cannot be used: "k" must be a whole number from 0 to 64 (it is 1000000000) · Retrain',
        'yollava.train',
      ],
    );
    writeMeta('trained NaN days ago', 0.5);
    lenses = await client.request('textDocument/codeLens', { textDocument: { uri } });
    assert.match(lenses[0]!.command.title, /^this concept cannot be used: "createdAt" is not a date/);
    writeFileSync(path.join(dir, 'concept.json'), Buffer.alloc(192 << 20, 0x20));
    const t0 = performance.now();
    lenses = await client.request('textDocument/codeLens', { textDocument: { uri } });
    assert.match(lenses[0]!.command.title, /^this concept cannot be used: .*192 MB, over the 1\.0 MB limit/);
    assert.ok(performance.now() - t0 < 5000, 'the lens of a 192 MB concept.json took more than 5 s');
    rmSync(path.join(ws, 'bo', '.yollava'), { recursive: true });
  });

  it("completion inside a block offers that block's keys; number and enum values get their default and range", async () => {
    const doc = `${text.trimEnd()}\ntraining:\n  \n`;
    const uri = client.open(path.join(ws, 'bo', 'typing.subject.yaml'), doc);
    const lines = doc.split('\n');
    const blank = lines.length - 2;
    const keys = await client.request<{ items?: { label: string }[] } | { label: string }[]>(
      'textDocument/completion',
      {
        textDocument: { uri },
        position: { line: blank, character: 2 },
      },
    );
    const labels = (Array.isArray(keys) ? keys : (keys.items ?? [])).map((k) => k.label);
    assert.ok(
      labels.includes('epochs') && labels.includes('tokens') && labels.includes('headRows'),
      labels.join(),
    );
    assert.ok(!labels.includes('images') && !labels.includes('name'));
    const withEpochs = doc.replace('training:\n  \n', 'training:\n  epochs: \n  headRows: \n');
    client.change(
      uri,
      2,
      { start: { line: 0, character: 0 }, end: { line: lines.length, character: 0 } },
      withEpochs,
    );
    const l2 = withEpochs.split('\n');
    const epochsLine = l2.findIndex((l) => l.startsWith('  epochs:'));
    const num = await client.request<{ label: string; detail?: string }[]>('textDocument/completion', {
      textDocument: { uri },
      position: { line: epochsLine, character: l2[epochsLine]!.length },
    });
    assert.equal(num[0]?.label, '6');
    assert.equal(num[0]?.detail, 'default · an integer ≥ 1, ≤ 200');
    const en = await client.request<{ label: string; detail?: string }[]>('textDocument/completion', {
      textDocument: { uri },
      position: { line: epochsLine + 1, character: l2[epochsLine + 1]!.length },
    });
    assert.deepEqual(
      en.map((e) => e.label),
      ['all', 'name'],
    );
    assert.equal(en.find((e) => e.label === 'all')?.detail, 'default');
    client.close(uri);
  });

  it('document links point at the folders; inlay hints count the images; a missing folder can be created', async () => {
    const uri = client.open(file, text);
    await client.waitFor(uri, (d) => d.length === 0);
    const links = await client.request<{ target: string }[]>('textDocument/documentLink', {
      textDocument: { uri },
    });
    assert.ok(links.some((l) => l.target.endsWith('/bo/photos/train')));
    const hints = await client.request<{ label: string }[]>('textDocument/inlayHint', {
      textDocument: { uri },
      range: { start: { line: 0, character: 0 }, end: { line: 20, character: 0 } },
    });
    assert.ok(hints.some((h) => h.label.trim() === '5 images'));
    client.change(
      uri,
      30,
      { start: { line: 4, character: 9 }, end: { line: 4, character: 21 } },
      'photos/later',
    );
    const d = await client.waitFor(uri, (ds) => ds.some((x) => x.code === 'missing-folder'), 10_000, 30);
    const m = d.find((x) => x.code === 'missing-folder')!;
    const actions = await client.request<
      { title: string; command: { command: string; arguments: unknown[] } }[]
    >('textDocument/codeAction', { textDocument: { uri }, range: m.range, context: { diagnostics: [m] } });
    const create = actions.find((a) => a.title.startsWith('Create folder'))!;
    await client.request('workspace/executeCommand', {
      command: create.command.command,
      arguments: create.command.arguments,
    });
    assert.ok(existsSync(path.join(ws, 'bo', 'photos', 'later')));
    const after = await client.waitFor(uri, (ds) => !ds.some((x) => x.code === 'missing-folder'));
    assert.ok(
      after.some((x) => x.code === 'too-few-images'),
      'the new empty folder has no photos yet',
    );
  });

  it("a new subject is offered the workspace's negative pools: those its subjects name, with their image counts", async () => {
    const pools = await client.request(NegativePoolsRequest, {});
    const bo = pools.find((p) => p.usedBy.includes('bo'));
    assert.ok(bo, JSON.stringify(pools));
    assert.equal(bo.images, 6);
    assert.ok(existsSync(bo.folder) && path.isAbsolute(bo.folder));
  });

  it('5,000 images in one folder validate, with duplicates reported a bounded number of times', async () => {
    const big = path.join(ws, 'big');
    mkdirSync(path.join(big, 'many'), { recursive: true });
    const srcs = [0, 1, 2].map((i) => path.join(ws, 'bo', 'photos', 'train', `00${i}.png`));
    for (let i = 0; i < 5000; i++)
      copyFileSync(srcs[i % 3]!, path.join(big, 'many', `${String(i).padStart(4, '0')}.png`));
    const f = path.join(big, 'big.subject.yaml');
    const t = 'name: big\ncategory: object\nimages:\n  train: many\n';
    writeFileSync(f, t);
    const uri = client.open(f, t);
    const d = await client.waitFor(uri, (ds) => ds.some((x) => x.code === 'duplicate-image'), 120_000);
    assert.ok(d.filter((x) => x.code === 'duplicate-image').length <= 20);
    const hints = await client.request<{ label: string }[]>('textDocument/inlayHint', {
      textDocument: { uri },
      range: { start: { line: 0, character: 0 }, end: { line: 9, character: 0 } },
    });
    assert.ok(hints.some((h) => h.label.trim() === '5000 images'));
    client.close(uri);
  });

  it('survives a symlink loop, a huge image, malformed YAML and a closed document', async () => {
    const odd = path.join(ws, 'odd');
    mkdirSync(path.join(odd, 'imgs'), { recursive: true });
    symlinkSync(path.join(odd, 'imgs'), path.join(odd, 'imgs', 'loop'));
    await sharp({ create: { width: 10000, height: 10000, channels: 3, background: '#808080' } })
      .jpeg()
      .toFile(path.join(odd, 'imgs', 'huge.jpg'));
    const f = path.join(odd, 'odd.subject.yaml');
    const t = 'name: odd\ncategory: object\nimages:\n  train: "imgs/**/*.jpg"\n';
    writeFileSync(f, t);
    const uri = client.open(f, t);
    const d = await client.waitFor(uri, (ds) => ds.some((x) => x.code === 'too-few-images'), 20_000);
    assert.ok(d.length >= 1);
    client.change(
      uri,
      2,
      { start: { line: 0, character: 0 }, end: { line: 3, character: 0 } },
      ':\n  - ][\n\t{',
    );
    await client.waitFor(uri, (ds) => ds.some((x) => msg(x).startsWith('YAML:')), 10_000, 2);
    client.close(uri);
    await client.waitFor(uri, (ds) => ds.length === 0);
    // still answering
    const uri2 = client.open(file, text);
    await client.waitFor(uri2, (ds) => ds.length === 0);
    assert.ok(!client.stderr.join('').includes('Error'), client.stderr.join(''));
  });
});
