// Writes a Hugging Face word-level tokenizer (tokenizer.json + tokenizer_config.json with a LLaVA-1.5-style
// chat template) for the project's own small models: ids 0 <unk>, 1 <s>, 2 </s>, then `words`, then
// <image> as the last id. Concept tokens (<bo>, <token0>…) are added after it at load time.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** USER: <image>\n… ASSISTANT: …</s>, as LLaVA-1.5 prompts, in the Jinja form tokenizer_config.json holds. */
export const LLAVA15_JINJA =
  "{% for m in messages %}{% if m['role'] == 'system' %}{{ m['content'][0]['text'] + ' ' }}{% else %}" +
  "{{ m['role'].upper() + ': ' }}{% for c in m['content'] %}{% if c['type'] == 'image' %}{{ '<image>\\n' }}{% endif %}{% endfor %}" +
  "{% for c in m['content'] %}{% if c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}" +
  "{% if m['role'] == 'assistant' %}{{ eos_token }}{% else %}{{ ' ' }}{% endif %}{% endif %}{% endfor %}" +
  "{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}";

/** Returns the vocabulary size (words + 4). */
export function writeWordLevelTokenizer(dir: string, words: readonly string[]): number {
  const specials = ['<unk>', '<s>', '</s>'];
  const all = [...specials, ...words.filter((w) => !specials.includes(w) && w !== '<image>')];
  const vocab = all.length + 1;
  const table: Record<string, number> = {};
  all.forEach((w, i) => (table[w] = i));
  table['<image>'] = vocab - 1;
  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const tokenizer = {
    version: '1.0',
    added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>'), special(vocab - 1, '<image>')],
    normalizer: null,
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '<s>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 0 } },
      ],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordLevel', vocab: table, unk_token: '<unk>' },
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  writeFileSync(
    path.join(dir, 'tokenizer_config.json'),
    JSON.stringify(
      {
        tokenizer_class: 'PreTrainedTokenizerFast',
        bos_token: '<s>',
        eos_token: '</s>',
        unk_token: '<unk>',
        chat_template: LLAVA15_JINJA,
      },
      null,
      2,
    ),
  );
  return vocab;
}
