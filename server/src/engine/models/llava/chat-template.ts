// Prompts through the model's chat template (tokenizer_config.json or chat_template.json, rendered with
// @huggingface/jinja); LLaVA-1.5's "USER: <image>\n… ASSISTANT:" when the folder has none.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { FILE_CAPS, readRegularTextSync } from '../../io/regular-file';
import { Environment, Interpreter, Template } from '@huggingface/jinja';

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

class ChatTemplateError extends Error {
  override name = 'ChatTemplateError';
}

/**
 * Bounds on one rendering. A real chat template takes a few thousand evaluation steps and writes a few kB;
 * a hostile one may loop 1e8 times or build a gigabyte string. Past either bound it is refused.
 */
const TEMPLATE_BUDGET = { steps: 200_000, chars: 32_000_000, range: 100_000 };

type Evaluate = (this: Interpreter, statement: unknown, environment: unknown) => { value: unknown };

/**
 * `template.render(items)` with every evaluation step counted, and the characters of every string value
 * made. @huggingface/jinja has no limits of its own: its interpreter's `evaluate` is wrapped for the length
 * of this (synchronous) call and restored after it.
 */
function renderWithBudget(template: Template, file: string, items: Record<string, unknown>): string {
  const proto = Interpreter.prototype as unknown as { evaluate: Evaluate };
  const original = proto.evaluate;
  let steps = 0;
  let chars = 0;
  proto.evaluate = function (statement, environment) {
    if (++steps > TEMPLATE_BUDGET.steps)
      throw new ChatTemplateError(
        `${file}: chat_template: rendering took more than ${TEMPLATE_BUDGET.steps} steps; the template loops without bound`,
      );
    const out = original.call(this, statement, environment);
    if (typeof out?.value === 'string' && (chars += out.value.length) > TEMPLATE_BUDGET.chars)
      throw new ChatTemplateError(
        `${file}: chat_template: rendering made more than ${TEMPLATE_BUDGET.chars} characters; the template writes without bound`,
      );
    return out;
  };
  // range() builds its whole list in one step: bounded here, before a range(1e8) fills the heap.
  const range = (start: number, stop?: number, step = 1): number[] => {
    const [from, to] = stop === undefined ? [0, start] : [start, stop];
    const n = step === 0 ? Infinity : Math.max(0, Math.ceil((to - from) / step));
    if (!(n <= TEMPLATE_BUDGET.range))
      throw new ChatTemplateError(
        `${file}: chat_template: range() of ${n} items is more than the ${TEMPLATE_BUDGET.range} a chat template needs`,
      );
    return Array.from({ length: n }, (_, i) => from + i * step);
  };
  // The library declares its own range() when it sets up a rendering: ours takes its place.
  const env = Environment.prototype as unknown as { set: (name: string, value: unknown) => unknown };
  const originalSet = env.set;
  env.set = function (name, value) {
    return originalSet.call(this, name, name === 'range' && typeof value === 'function' ? range : value);
  };
  try {
    return template.render(items);
  } catch (e) {
    if (e instanceof ChatTemplateError) throw e;
    throw new ChatTemplateError(`${file}: chat_template: ${(e as Error).message}`);
  } finally {
    proto.evaluate = original;
    env.set = originalSet;
  }
}

export function loadChatTemplate(dir: string, special: { bos?: string; eos?: string } = {}): ChatTemplate {
  const fromConfig = readTemplate(path.join(dir, 'tokenizer_config.json'));
  const fromFile = readTemplate(path.join(dir, 'chat_template.json'));
  const text = fromConfig ?? fromFile;
  if (!text) return llava15Template(special.eos ?? '</s>');
  let template: Template;
  try {
    template = new Template(text);
  } catch (e) {
    throw new ChatTemplateError(
      `${path.join(dir, fromConfig ? 'tokenizer_config.json' : 'chat_template.json')}: chat_template: ${(e as Error).message}`,
    );
  }
  const source = fromConfig ? 'tokenizer_config.json' : 'chat_template.json';
  const renderHf = (messages: HfChatMessage[], generationPrompt: boolean): string =>
    renderWithBudget(template, path.join(dir, source), {
      messages,
      add_generation_prompt: generationPrompt,
      bos_token: special.bos ?? '',
      eos_token: special.eos ?? '',
    });
  return {
    source,
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
