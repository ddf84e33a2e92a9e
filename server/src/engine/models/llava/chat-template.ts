// Prompts through the model's chat template (tokenizer_config.json or chat_template.json, rendered with
// @huggingface/jinja); LLaVA-1.5's "USER: <image>\n… ASSISTANT:" when the folder has none.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { FILE_CAPS, readRegularTextSync } from '../../io/regular-file';
import { Template } from '@huggingface/jinja';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  text: string;
  /** Number of images at the start of this message. */
  images?: number;
}

/** A message as transformers' apply_chat_template takes it. */
export interface HfChatMessage {
  role: string;
  content: string | ({ type: 'image' } | { type: 'text'; text: string })[];
}

export interface ChatTemplate {
  /** The prompt text; with `generationPrompt` it ends where the assistant's answer begins. */
  render(messages: ChatMessage[], generationPrompt: boolean): string;
  /** The same for Hugging Face-style messages, passed to the template as they are. */
  renderHf(messages: HfChatMessage[], generationPrompt: boolean): string;
  readonly source: 'tokenizer_config.json' | 'chat_template.json' | 'llava-1.5 default';
}

export function loadChatTemplate(dir: string, special: { bos?: string; eos?: string } = {}): ChatTemplate {
  const fromConfig = readTemplate(path.join(dir, 'tokenizer_config.json'));
  const fromFile = readTemplate(path.join(dir, 'chat_template.json'));
  const text = fromConfig ?? fromFile;
  if (!text) return llava15Template(special.eos ?? '</s>');
  const template = new Template(text);
  const renderHf = (messages: HfChatMessage[], generationPrompt: boolean): string =>
    template.render({
      messages,
      add_generation_prompt: generationPrompt,
      bos_token: special.bos ?? '',
      eos_token: special.eos ?? '',
    });
  return {
    source: fromConfig ? 'tokenizer_config.json' : 'chat_template.json',
    render: (messages, generationPrompt) => renderHf(messages.map(toHf), generationPrompt),
    renderHf,
  };
}

function readTemplate(file: string): string | null {
  if (!existsSync(file)) return null;
  const v = (
    JSON.parse(readRegularTextSync(file, path.basename(file), FILE_CAPS.tokenizer)) as Record<string, unknown>
  )['chat_template'];
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    const d = v.find((t) => (t as { name?: string }).name === 'default') as { template?: string } | undefined;
    return d?.template ?? null;
  }
  return null;
}

function toHf(m: ChatMessage): HfChatMessage {
  return {
    role: m.role,
    content: [
      ...new Array<{ type: 'image' }>(m.images ?? 0).fill({ type: 'image' }),
      { type: 'text', text: m.text },
    ],
  };
}

/** Our message form from a Hugging Face one: images counted, texts joined (the default template's view). */
function fromHf(m: HfChatMessage): ChatMessage {
  const parts = typeof m.content === 'string' ? [{ type: 'text' as const, text: m.content }] : m.content;
  const role = m.role === 'system' || m.role === 'assistant' ? m.role : 'user';
  return {
    role,
    images: parts.filter((p) => p.type === 'image').length,
    text: parts.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join(' '),
  };
}

/** LLaVA-1.5's conversation format (conv_llava_v1 without a system line, as llava-hf prompts it). */
export function llava15Template(eos: string): ChatTemplate {
  return {
    source: 'llava-1.5 default',
    renderHf(messages, generationPrompt) {
      return this.render(messages.map(fromHf), generationPrompt);
    },
    render(messages, generationPrompt) {
      let out = '';
      for (const m of messages) {
        const images = '<image>\n'.repeat(m.images ?? 0);
        if (m.role === 'system') out += `${m.text}\n`;
        else if (m.role === 'user') out += `USER: ${images}${m.text} `;
        else out += `ASSISTANT: ${m.text}${eos}`;
      }
      if (generationPrompt) out += 'ASSISTANT:';
      return out;
    },
  };
}
