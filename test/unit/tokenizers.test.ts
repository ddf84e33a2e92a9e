// The tokenizer formats real checkpoints ship, against the Rust core of Hugging Face tokenizers (the npm
// package "tokenizers", the same code transformers runs): LLaMA BPE with byte fallback in its legacy
// (Prepend/Replace normalizer) and Metaspace forms, and Qwen2's byte-level BPE with its split regex; added
// and special tokens, and concept tokens added at run time. Ids, token strings and decoded text must agree.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { AddedToken, Tokenizer as RustTokenizer } from 'tokenizers';
import { LlavaTokenizer } from '../../server/src/engine/models/llava/tokenizer';
import {
  LLAMA_CONFIG,
  QWEN2_CONFIG,
  llamaLegacyTokenizer,
  llamaMetaspaceTokenizer,
  qwen2Tokenizer,
} from '../helpers/bpe-fixtures';

export const CASES: [string, string][] = [
  ['ASCII', 'My dog Bo is a golden retriever.'],
  ['unknown words', 'ZZZqqq xylophone 123 4567'],
  ['whitespace runs', 'a  b   c\t\td    e'],
  ['leading and trailing spaces', '   leading and trailing   '],
  ['newlines', 'line one\nline two\n\n\nend\r\n'],
  ['accents (NFC)', 'café résumé naïve über'],
  ['accents (NFD)', 'cafe\u0301 re\u0301sume\u0301'],
  ['emoji', '🐶🐕‍🦺 my dog 👍🏽'],
  ['CJK', '我的狗很可爱。这是一张照片'],
  ['<image> glued to words', 'look<image>here and<image>\nthere'],
  ['<image> at the start', '<image>\nWhat is in this photo?'],
  ['literal special-token text', '<s>hello</s> <unk> <|im_start|>user\nhi<|im_end|>'],
  ['concept token', '<bo> is <token0><token1>. Is <bo> in this photo?'],
  ['concept token glued', "<bo>'s ball and (<bo>)"],
  ['contractions', "I can't tell; it's 12:30, isn't it? I'M SURE they'LL go."],
  ['empty', ''],
  ['a single space', ' '],
];

const CONCEPT = ['<bo>', '<token0>', '<token1>'];

function folder(json: Record<string, unknown>, config: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'yollava-tok-'));
  writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(json));
  writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  return dir;
}

const FORMATS = [
  ['LLaMA legacy (Prepend/Replace normalizer, byte fallback)', llamaLegacyTokenizer, LLAMA_CONFIG],
  ['LLaMA Metaspace pre-tokenizer (byte fallback)', llamaMetaspaceTokenizer, LLAMA_CONFIG],
  ['Qwen2 byte-level BPE (split regex, NFC)', qwen2Tokenizer, QWEN2_CONFIG],
] as const;

for (const [name, make, config] of FORMATS) {
  describe(`tokenizer: ${name}`, () => {
    const json = make();
    const ours = LlavaTokenizer.load(folder(json, config), { extraTokens: CONCEPT });
    const rust = RustTokenizer.fromString(JSON.stringify(json));
    // As transformers' tokenizer.add_tokens([AddedToken(t, normalized=False)]) adds them.
    rust.addAddedTokens(CONCEPT.map((t) => new AddedToken(t, false, { normalized: false })));

    it('gives each concept token the id the Rust core gives it, after the vocabulary', () => {
      for (const t of CONCEPT) assert.equal(ours.idOf(t), rust.tokenToId(t), t);
    });

    for (const [label, text] of CASES) {
      it(`${label}: the same ids, tokens and decoded text as the Rust core`, async () => {
        for (const special of [true, false]) {
          const expected = await rust.encode(text, null, { addSpecialTokens: special });
          const ids = ours.encode(text, special);
          assert.deepEqual(ids, expected.getIds(), `ids, add_special_tokens=${special}`);
          assert.deepEqual(ours.tokens(ids), expected.getTokens(), 'tokens');
          for (const skip of [true, false])
            assert.equal(
              ours.decode(ids, skip),
              await rust.decode(ids, skip),
              `decode, skip_special=${skip}`,
            );
        }
      });
    }
  });
}

describe('tokenizer: a normalized added token decodes as the Rust core decodes it', () => {
  it('LLaMA legacy: an added token with normalized=true keeps the space its "▁" stands for', async () => {
    const json = llamaLegacyTokenizer();
    const added = json['added_tokens'] as Record<string, unknown>[];
    const id = Math.max(...added.map((t) => t['id'] as number)) + 1;
    const withNormalized = {
      ...json,
      added_tokens: [
        ...added,
        {
          id,
          content: '<pet>',
          single_word: false,
          lstrip: false,
          rstrip: false,
          normalized: true,
          special: false,
        },
      ],
    };
    const ours = LlavaTokenizer.load(folder(withNormalized, LLAMA_CONFIG));
    const rust = RustTokenizer.fromString(JSON.stringify(withNormalized));
    const text = 'Is <pet> here?';
    const ids = ours.encode(text, false);
    assert.deepEqual(ids, (await rust.encode(text, null, { addSpecialTokens: false })).getIds());
    assert.equal(ours.decode(ids), await rust.decode(ids, false));
    assert.equal(ours.decode(ids), 'Is <pet> here?');
  });
});

describe('yollava tokenize and render-chat (the built CLI)', () => {
  const cli = path.join(__dirname, '..', '..', 'dist', 'cli.js');
  const run = (args: string[], input?: string) =>
    spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', input });
  const dir = folder(qwen2Tokenizer(), QWEN2_CONFIG);
  const rust = RustTokenizer.fromString(JSON.stringify(qwen2Tokenizer()));

  it('tokenize TEXT prints ids, tokens and the decoded text as one JSON line, equal to the Rust core', async () => {
    const text = 'Is my 🐶 in <image> here?';
    const r = run(['tokenize', dir, text]);
    assert.equal(r.status, 0, r.stderr);
    const expected = await rust.encode(text, null, { addSpecialTokens: true });
    assert.deepEqual(JSON.parse(r.stdout), {
      ids: expected.getIds(),
      tokens: expected.getTokens(),
      decoded: await rust.decode(expected.getIds(), true),
    });
  });

  it('tokenize without TEXT reads one JSON string per line and prints one line for each', async () => {
    const texts = ['first line', 'a\nnewline inside', '<|im_end|> special'];
    const r = run(['tokenize', dir, '--no-special'], texts.map((t) => JSON.stringify(t)).join('\n'));
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 3);
    for (const [i, t] of texts.entries()) {
      const e = await rust.encode(t, null, { addSpecialTokens: false });
      assert.deepEqual((JSON.parse(lines[i]!) as { ids: number[] }).ids, e.getIds());
    }
    const bad = run(['tokenize', dir], 'not json\n');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /stdin line 1: not JSON/);
  });

  it("render-chat prints the folder's chat template applied to Hugging Face messages, then the prompt's ids", async () => {
    const messages = [
      { role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'What is <bo> doing?' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Sleeping.' }] },
      { role: 'user', content: [{ type: 'text', text: 'And now?' }] },
    ];
    const prompt =
      '<|im_start|>user\n<image>\nWhat is <bo> doing?<|im_end|>\n<|im_start|>assistant\nSleeping.<|im_end|>\n' +
      '<|im_start|>user\nAnd now?<|im_end|>\n<|im_start|>assistant\n';
    const r = run(['render-chat', dir], JSON.stringify(messages));
    assert.equal(r.status, 0, r.stderr);
    const ids = (await rust.encode(prompt, null, { addSpecialTokens: true })).getIds();
    assert.equal(r.stdout, `${prompt}\n${JSON.stringify({ ids })}\n`);
    const noPrompt = run(['render-chat', dir, '--no-generation-prompt'], JSON.stringify(messages));
    assert.ok(noPrompt.stdout.startsWith(prompt.slice(0, -'<|im_start|>assistant\n'.length) + '\n{'));
    const bad = run(['render-chat', dir], '[{"role":"user","content":[{"type":"video"}]}]');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /message 0, content 0: expected/);
  });
});
