// Untrusted workspaces: in Restricted Mode the server still validates, but reads nothing from a model
// folder the workspace names; image folders that leave the workspace get a warning either way.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeSubjectWorkspace } from '../../server/src/engine/toyworld/workspace';
import { ValidatedNotification } from '../../server/src/protocol';
import { LspClient } from '../helpers/lsp-client';
import { RED_MUG, writeTinyPersonalizationModel } from '../helpers/tiny-model';

describe('untrusted workspaces and paths out of the workspace', () => {
  let ws = '';
  let file = '';
  let text = '';
  const clients: LspClient[] = [];
  before(async () => {
    ws = mkdtempSync(path.join(tmpdir(), 'yollava-trust-'));
    writeTinyPersonalizationModel(path.join(ws, 'model'));
    // "w300" is a word of the workspace's model (its tokenizer pads with w<i>), not of the default model.
    file = await writeSubjectWorkspace(ws, {
      name: 'w300',
      object: RED_MUG,
      train: 5,
      test: 0,
      negatives: 2,
      model: '../model',
    });
    text = readFileSync(file, 'utf8');
  });
  after(async () => {
    for (const c of clients) await c.stop();
  });

  it("trusted, the workspace's model is asked; restricted, it is not opened at all", async () => {
    const trusted = await LspClient.start(ws);
    clients.push(trusted);
    const d = await trusted.waitFor(trusted.open(file, text), (ds) =>
      ds.some((x) => x.code === 'name-in-vocabulary'),
    );
    assert.ok(d.length > 0);
    const restricted = await LspClient.start(ws, {}, { trusted: false });
    clients.push(restricted);
    // It still validates (a broken field is reported) but the vocabulary check of ../model never runs.
    const broken = text.replace(/category: \w+/, 'category: vase');
    const uri = restricted.open(file, broken);
    const r = await restricted.waitFor(uri, (ds) => ds.some((x) => String(x.message).includes('category')));
    assert.ok(!r.some((x) => x.code === 'name-in-vocabulary'));
  });

  it('image folders that leave the workspace, by path or by symbolic link, get a warning', async () => {
    const outside = mkdtempSync(path.join(tmpdir(), 'yollava-outside-'));
    mkdirSync(path.join(outside, 'photos'));
    for (const f of ['000.png', '001.png', '002.png'])
      writeFileSync(
        path.join(outside, 'photos', f),
        readFileSync(path.join(ws, 'w300', 'photos', 'train', f)),
      );
    symlinkSync(path.join(outside, 'photos'), path.join(ws, 'w300', 'linked'));
    const client = await LspClient.start(ws);
    clients.push(client);
    const t = text
      .replace('train: photos/train', `train: ${path.join(outside, 'photos')}`)
      .replace(/pools: \[.*\]/, 'pools: [linked]');
    const d = await client.waitFor(
      client.open(file, t),
      (ds) => ds.filter((x) => x.code === 'outside-workspace').length === 2,
    );
    const out = d.filter((x) => x.code === 'outside-workspace');
    assert.ok(out.every((x) => x.severity === 2));
    assert.match(String(out[0]!.message), /images\.train: ".*" is outside the workspace/);

    // Restricted Mode reads nothing outside the workspace: the folders are named, not listed or decoded.
    const restricted = await LspClient.start(ws, {}, { trusted: false });
    clients.push(restricted);
    const ruri = restricted.open(file, t);
    const rd = await restricted.waitFor(
      ruri,
      (ds) => ds.filter((x) => x.code === 'outside-workspace').length === 2,
    );
    for (const x of rd.filter((x) => x.code === 'outside-workspace'))
      assert.match(String(x.message), /is outside the workspace .*; not read in Restricted Mode$/);
    // The counts follow the diagnostics in a notification of their own.
    const validated = await restricted.until('the counts of the restricted validation', () =>
      restricted
        .received<{ uri: string; images: Record<string, number> }>(ValidatedNotification)
        .filter((v) => v.uri === ruri && v.images['images.train'] !== undefined)
        .pop(),
    );
    assert.equal(validated.images['images.train'], 0, 'photos outside the workspace were read');
    assert.equal(validated.images['negatives.pools.0'], 0, 'a linked folder leading out was read');
    // Trusted, the same file's photos outside were read (3 of them): the check above can fail.
    const trustedValidated = await client.until('the counts of the trusted validation', () =>
      client
        .received<{ uri: string; images: Record<string, number> }>(ValidatedNotification)
        .filter((v) => v.images['images.train'] !== undefined)
        .pop(),
    );
    assert.equal(trustedValidated.images['images.train'], 3);
  });

  it('Restricted Mode: a photo inside the workspace that links outside it is not read', async () => {
    const outside = mkdtempSync(path.join(tmpdir(), 'yollava-outside-link-'));
    writeFileSync(
      path.join(outside, 'secret.png'),
      readFileSync(path.join(ws, 'w300', 'photos', 'train', '000.png')),
    );
    const link = path.join(ws, 'w300', 'photos', 'train', 'zz.png');
    symlinkSync(path.join(outside, 'secret.png'), link);
    try {
      const open = async (trusted: boolean) => {
        const c = await LspClient.start(ws, {}, { trusted });
        clients.push(c);
        const uri = c.open(file, text);
        const v = await c.until(`the counts (${trusted ? 'trusted' : 'restricted'})`, () =>
          c
            .received<{ uri: string; images: Record<string, number> }>(ValidatedNotification)
            .filter((n) => n.uri === uri && n.images['images.train'] !== undefined)
            .pop(),
        );
        return { c, uri, train: v.images['images.train'] };
      };
      assert.equal((await open(true)).train, 6, 'trusted, the linked photo counts');
      const r = await open(false);
      assert.equal(r.train, 5, 'restricted, the linked photo was read');
      await r.c.waitFor(r.uri, (ds) =>
        ds.some((x) =>
          /images\.train: 1 photo\(s\) link outside the workspace \(zz\.png\); not read in Restricted Mode/.test(
            String(x.message),
          ),
        ),
      );
    } finally {
      rmSync(link);
    }
  });
});
