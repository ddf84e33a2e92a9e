// tokenizer.json files in the formats real checkpoints ship, with small vocabularies learned here by plain
// BPE on a built-in corpus: LLaMA-2's legacy form (Prepend/Replace normalizer, byte fallback), the newer
// Metaspace pre-tokenizer form, and Qwen2's byte-level BPE with its split regex. No real files can be
// downloaded; the structure is what matters, and the reference ids come from the Rust core, not from here.

const CORPUS = `
My dog Bo is a golden retriever. He likes the park, the beach and the red ball.
What color is the mug? The mug is blue with white dots. Is it on the table or in the kitchen?
A photo of a cat sitting next to a window. The cat's name is Mixy; she is orange and white.
Describe the picture in one sentence. Where is the subject usually found? It is usually at home.
Yes, this is my dog. No, I can't tell from the photo. 我的狗很可爱。这是一张照片。
café résumé naïve über — emojis like 🐶 and 🐱 appear too.
`;

/** Most frequent adjacent pair merged, `merges` times, over words (each a list of symbols). */
function learnMerges(words: string[][], merges: number): [string, string][] {
  const out: [string, string][] = [];
  const seqs = words.map((w) => [...w]);
  for (let m = 0; m < merges; m++) {
    const counts = new Map<string, number>();
    for (const s of seqs)
      for (let i = 0; i + 1 < s.length; i++) {
        const k = `${s[i]}\u0000${s[i + 1]}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
    let best = '';
    let bestCount = 1;
    for (const [k, c] of counts)
      if (c > bestCount || (c === bestCount && best && k < best)) [best, bestCount] = [k, c];
    if (!best) break;
    const [a, b] = best.split('\u0000') as [string, string];
    out.push([a, b]);
    for (const s of seqs)
      for (let i = 0; i + 1 < s.length; i++)
        if (s[i] === a && s[i + 1] === b) {
          s.splice(i, 2, a + b);
        }
  }
  return out;
}

function vocabFrom(base: string[], merges: [string, string][], first: number): Record<string, number> {
  const vocab: Record<string, number> = {};
  let id = first;
  for (const s of [...base, ...merges.map(([a, b]) => a + b)]) if (!(s in vocab)) vocab[s] = id++;
  return vocab;
}

function byteTokens(): string[] {
  return Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
}

const LLAMA_SPECIALS = [
  { id: 0, content: '<unk>', special: true },
  { id: 1, content: '<s>', special: true },
  { id: 2, content: '</s>', special: true },
];

function addedToken(t: { id: number; content: string; special: boolean }) {
  return { ...t, single_word: false, lstrip: false, rstrip: false, normalized: !t.special };
}

/** llava-hf adds "<image>" after the vocabulary as a special token that normalization does not touch. */
function withImageToken(json: Record<string, unknown>): Record<string, unknown> {
  const vocab = (json['model'] as { vocab: Record<string, number> }).vocab;
  const added = json['added_tokens'] as { id: number }[];
  const id = Math.max(...Object.values(vocab), ...added.map((t) => t.id)) + 1;
  return { ...json, added_tokens: [...added, { ...addedToken({ id, content: '<image>', special: true }) }] };
}

/** SentencePiece-style BPE over "▁"-joined words, with byte fallback for anything outside the vocabulary. */
function llamaModel(merges: number) {
  const words = CORPUS.split(/\s+/)
    .filter(Boolean)
    .map((w) => ['▁', ...w]);
  const m = learnMerges(words, merges);
  // Only a few letters as single pieces: everything else must go through byte fallback.
  const chars = [...new Set(CORPUS.replace(/\s/g, ''))].filter((c) => /[a-zA-Z.,?]/.test(c)).sort();
  const base = ['<unk>', '<s>', '</s>', ...byteTokens(), '▁', ...chars];
  const kept = m.filter(([a, b]) => [...(a + b)].every((c) => c === '▁' || chars.includes(c)));
  return {
    type: 'BPE',
    dropout: null,
    unk_token: '<unk>',
    continuing_subword_prefix: null,
    end_of_word_suffix: null,
    fuse_unk: true,
    byte_fallback: true,
    ignore_merges: false,
    vocab: vocabFrom(base, kept, 0),
    merges: kept.map(([a, b]) => `${a} ${b}`),
  };
}

const LLAMA_POST = {
  type: 'TemplateProcessing',
  single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
  pair: [
    { SpecialToken: { id: '<s>', type_id: 0 } },
    { Sequence: { id: 'A', type_id: 0 } },
    { SpecialToken: { id: '<s>', type_id: 1 } },
    { Sequence: { id: 'B', type_id: 1 } },
  ],
  special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
};

/** LLaMA-2 / llava-1.5 as saved by transformers ≤ 4.40: Prepend("▁") + Replace(" ", "▁"), no pre-tokenizer. */
export function llamaLegacyTokenizer(): Record<string, unknown> {
  return withImageToken({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: LLAMA_SPECIALS.map(addedToken),
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: '▁' },
        { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
      ],
    },
    pre_tokenizer: null,
    post_processor: LLAMA_POST,
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: llamaModel(300),
  });
}

/** The same model as newer transformers saves it: a Metaspace pre-tokenizer (prepend "first", no split). */
export function llamaMetaspaceTokenizer(): Record<string, unknown> {
  return withImageToken({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: LLAMA_SPECIALS.map(addedToken),
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false },
    post_processor: LLAMA_POST,
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false },
    model: llamaModel(300),
  });
}

/** GPT-2's reversible map from bytes to printable characters, which byte-level BPE works in. */
export function bytesToUnicode(): string[] {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const map: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) map[b] = String.fromCodePoint(keep.includes(b) ? b : 256 + n++);
  return map;
}

/** Qwen2's pre-tokenizer split: contractions, letters, single digits, punctuation runs, newlines, spaces. */
export const QWEN2_SPLIT =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

export function qwen2Tokenizer(): Record<string, unknown> {
  const map = bytesToUnicode();
  const enc = (s: string) => [...new TextEncoder().encode(s)].map((b) => map[b]!).join('');
  const pieces = CORPUS.match(new RegExp(QWEN2_SPLIT.replace('(?i:', '(?:'), 'gu')) ?? [];
  const merges = learnMerges(
    pieces.map((p) => [...enc(p)]),
    400,
  );
  const vocab = vocabFrom(map, merges, 0);
  const next = Object.keys(vocab).length;
  const specials = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'].map((content, i) => ({
    id: next + i,
    content,
    special: true,
  }));
  return withImageToken({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((t) => ({ ...addedToken(t), normalized: false })),
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: QWEN2_SPLIT }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      ],
    },
    post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  });
}

/** tokenizer_config.json beside each: the special tokens by name, and a chat template. */
export const LLAMA_CONFIG = {
  bos_token: '<s>',
  eos_token: '</s>',
  unk_token: '<unk>',
  add_bos_token: true,
  add_eos_token: false,
  legacy: true,
  model_max_length: 4096,
};

/** llava-onevision / Qwen2 ChatML with images as "<image>\n" at the start of a user turn. */
export const QWEN2_CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' }}{% for content in message['content'] %}{% if content['type'] == 'image' %}{{ '<image>\\n' }}{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}{% endfor %}{{ '<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export const QWEN2_CONFIG = {
  bos_token: null,
  eos_token: '<|im_end|>',
  pad_token: '<|endoftext|>',
  model_max_length: 32768,
  chat_template: QWEN2_CHAT_TEMPLATE,
};
