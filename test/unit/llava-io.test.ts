// Tokenizer with added concept tokens, chat templates, and the image processor.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { loadChatTemplate } from '../../server/src/engine/models/llava/chat-template';
import {
  ImageError,
  preprocessImage,
  readImageProcessorConfig,
} from '../../server/src/engine/models/llava/image-processor';
import { writeTinyLlava, writeTinyTokenizer } from '../../server/src/engine/models/llava/random-checkpoint';
import { templateWords } from '../../server/src/engine/personalize/templates';
import { LlavaTokenizer, TextStreamer } from '../../server/src/engine/models/llava/tokenizer';

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'yollava-io-'));

describe('tokenizer', () => {
  const dir = tmp();
  writeTinyTokenizer(dir, 128, templateWords());

  it('encodes added concept tokens as single ids after the vocabulary, and decodes them back', () => {
    const t = LlavaTokenizer.load(dir, { extraTokens: ['<bo>', '<token0>', '<token1>'], firstExtraId: 128 });
    const ids = t.encode('<bo> is <token0><token1>.', false);
    assert.deepEqual(ids.slice(0, 2), [128, t.idOf('is')]);
    assert.ok(ids.includes(129) && ids.includes(130));
    assert.match(t.decode(ids, true), /<bo> is <token0>\s*<token1>/);
    assert.equal(t.encode('is', true)[0], 1, 'the post-processor adds <s>');
  });

  it('knows which words are already vocabulary entries', () => {
    const t = LlavaTokenizer.load(dir);
    assert.ok(t.hasToken('dog'));
    assert.ok(!t.hasToken('bo'));
  });

  it('streams text deltas that add up to the full decode', () => {
    const t = LlavaTokenizer.load(dir, { extraTokens: ['<bo>'] });
    const ids = t.encode('this is <bo> with a red mug .', false);
    const s = new TextStreamer(t);
    const pieces = ids.map((id) => s.push(id));
    assert.equal(pieces.join(''), t.decode(ids, true));
    assert.match(pieces.join(''), /<bo>/);
  });

  it('a missing tokenizer.json is a clear error', () => {
    assert.throws(() => LlavaTokenizer.load(tmp()), /tokenizer\.json: not found/);
  });
});

describe('chat template', () => {
  it("renders the folder's jinja template", () => {
    const dir = tmp();
    writeTinyTokenizer(dir, 64, templateWords());
    const ct = loadChatTemplate(dir, { bos: '<s>', eos: '</s>' });
    assert.equal(ct.source, 'tokenizer_config.json');
    const text = ct.render(
      [
        { role: 'user', text: 'is <bo> here ?', images: 1 },
        { role: 'assistant', text: 'yes' },
        { role: 'user', text: 'why ?' },
      ],
      true,
    );
    assert.equal(text, 'USER: <image>\nis <bo> here ? ASSISTANT: yes</s>USER: why ? ASSISTANT:');
  });

  it("falls back to LLaVA-1.5's format without a template", () => {
    const ct = loadChatTemplate(tmp(), { eos: '</s>' });
    assert.equal(ct.source, 'llava-1.5 default');
    assert.equal(
      ct.render([{ role: 'user', text: 'What is shown?', images: 1 }], true),
      'USER: <image>\nWhat is shown? ASSISTANT:',
    );
  });
});

describe('image processor', () => {
  const dir = tmp();
  writeTinyLlava(dir, { vision: { imageSize: 24, patchSize: 8 } });
  const cfg = readImageProcessorConfig(dir, 24);

  async function png(
    width: number,
    height: number,
    f: (x: number, y: number) => [number, number, number],
  ): Promise<Buffer> {
    const raw = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw.set(f(x, y), (y * width + x) * 3);
    return sharp(raw, { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer();
  }

  it('a flat colour normalizes to (v/255 − mean) / std in every pixel, CHW', async () => {
    const px = await preprocessImage(await png(40, 30, () => [255, 128, 0]), cfg);
    assert.equal(px.length, 3 * 24 * 24);
    const expect = [255, 128, 0].map((v, c) => (v / 255 - cfg.mean[c]!) / cfg.std[c]!);
    for (let c = 0; c < 3; c++)
      for (const i of [0, 100, 575]) assert.ok(Math.abs(px[c * 576 + i]! - expect[c]!) < 1e-5);
  });

  it('resizes the short side and crops the centre: a wide image keeps its middle', async () => {
    // 72×24: left third black, middle third white, right third black → after resize (24 high) and a
    // 24-wide centre crop only white remains.
    const px = await preprocessImage(
      await png(72, 24, (x) => (x >= 24 && x < 48 ? [255, 255, 255] : [0, 0, 0])),
      cfg,
    );
    const white = (1 - cfg.mean[0]) / cfg.std[0];
    assert.ok(Math.abs(px[12 * 24 + 12]! - white) < 1e-4);
    assert.ok(Math.abs(px[12 * 24 + 2]! - white) < 0.2, 'the crop should not reach the black thirds');
  });

  it('pad-to-square keeps the whole image; flip mirrors it', async () => {
    const img = await png(48, 24, (x) => (x < 24 ? [255, 0, 0] : [0, 0, 255]));
    const padded = await preprocessImage(img, cfg, { padToSquare: true });
    const meanRed = (Math.round(cfg.mean[0] * 255) / 255 - cfg.mean[0]) / cfg.std[0];
    assert.ok(Math.abs(padded[0]! - meanRed) < 0.02, 'the top row is padding in the mean colour');
    const plain = await preprocessImage(img, cfg);
    const flipped = await preprocessImage(img, cfg, { flip: true });
    assert.ok(Math.abs(plain[12 * 24 + 1]! - flipped[12 * 24 + 22]!) < 1e-4);
  });

  it('a corrupt or non-image file is an ImageError naming the file', async () => {
    const bad = path.join(tmp(), 'photo.jpg');
    writeFileSync(bad, 'this is not a jpeg');
    await assert.rejects(
      preprocessImage(bad, cfg),
      (e: Error) => e instanceof ImageError && e.message.startsWith(`${bad}: cannot decode image`),
    );
  });
});

describe('streaming text generation', () => {
  it('streams deltas that add up to the decoded tokens, and cuts at a stop string', async () => {
    const { LlavaModel } = await import('../../server/src/engine/models/llava/model');
    const { streamText } = await import('../../server/src/engine/generate/stream-text');
    const { generateTokens } = await import('../../server/src/engine/generate/generate');
    const dir = tmp();
    writeTinyLlava(dir, { seed: 8 });
    writeTinyTokenizer(dir, 128, templateWords());
    const model = LlavaModel.load(dir);
    const tok = LlavaTokenizer.load(dir);
    try {
      const prompt = model.embed(tok.encode('USER: what color is the mug ? ASSISTANT:'));
      const ids: number[] = [];
      for await (const id of generateTokens(model, prompt, { maxNewTokens: 10, eosTokenIds: [] }))
        ids.push(id);
      const full = tok.decode(ids, true);
      let streamed = '';
      for await (const d of streamText(model, tok, prompt, { maxNewTokens: 10, eosTokenIds: [] }))
        streamed += d;
      assert.equal(streamed, full);
      const words = full.trim().split(/\s+/);
      const stop = words[Math.min(3, words.length - 1)]!;
      let cut = '';
      for await (const d of streamText(model, tok, prompt, {
        maxNewTokens: 10,
        eosTokenIds: [],
        stopStrings: [stop],
      }))
        cut += d;
      assert.equal(cut, full.slice(0, full.indexOf(stop)));
    } finally {
      await model.release();
    }
  });
});
