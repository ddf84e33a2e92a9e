// Prompts through the model's chat template (tokenizer_config.json or chat_template.json, rendered with
// @huggingface/jinja); LLaVA-1.5's "USER: <image>\n… ASSISTANT:" when the folder has none.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Template } from '@huggingface/jinja';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  text: string;
  /** Number of images at the start of this message. */
  images?: number;
}

export interface ChatTemplate {
  /** The prompt text; with `generationPrompt` it ends where the assistant's answer begins. */
  render(messages: ChatMessage[], generationPrompt: boolean): string;
  readonly source: 'tokenizer_config.json' | 'chat_template.json' | 'llava-1.5 default';
}

export function loadChatTemplate(dir: string, special: { bos?: string; eos?: string } = {}): ChatTemplate {
  const fromConfig = readTemplate(path.join(dir, 'tokenizer_config.json'));
  const fromFile = readTemplate(path.join(dir, 'chat_template.json'));
  const text = fromConfig ?? fromFile;
  if (!text) return llava15Template(special.eos ?? '</s>');
  const template = new Template(text);
  return {
    source: fromConfig ? 'tokenizer_config.json' : 'chat_template.json',
    render(messages, generationPrompt) {
      return template.render({
        messages: messages.map((m) => ({
          role: m.role,
          content: [...new Array(m.images ?? 0).fill({ type: 'image' }), { type: 'text', text: m.text }],
        })),
        add_generation_prompt: generationPrompt,
        bos_token: special.bos ?? '',
        eos_token: special.eos ?? '',
      });
    },
  };
}

function readTemplate(file: string): string | null {
  if (!existsSync(file)) return null;
  const v = (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)['chat_template'];
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    const d = v.find((t) => (t as { name?: string }).name === 'default') as { template?: string } | undefined;
    return d?.template ?? null;
  }
  return null;
}

/** LLaVA-1.5's conversation format (conv_llava_v1 without a system line, as llava-hf prompts it). */
export function llava15Template(eos: string): ChatTemplate {
  return {
    source: 'llava-1.5 default',
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
