// `yollava tokenize` and `yollava render-chat`: what a model folder's tokenizer and chat template make of
// a text or a conversation, one JSON line each, so that they can be compared with Hugging Face's.
import { createInterface } from 'node:readline';
import { loadChatTemplate, LlavaTokenizer, type HfChatMessage } from '../engine';

export const TOKENIZER_USAGE = `  yollava tokenize <model-dir> [--no-special] [TEXT]
                                           ids, tokens and decoded text as one JSON line; without TEXT,
                                           one line for each JSON string read from stdin
  yollava render-chat <model-dir> [--no-generation-prompt] < messages.json
                                           the prompt the folder's chat template renders, then {"ids":[…]}
`;

class CommandError extends Error {}

function splitArgs(args: string[], flagsAllowed: string[], usage: string) {
  const flags = new Set<string>();
  const positional: string[] = [];
  for (const a of args) {
    if (a.startsWith('--')) {
      if (!flagsAllowed.includes(a)) throw new CommandError(`unknown option ${a}\nusage: ${usage}`);
      flags.add(a);
    } else positional.push(a);
  }
  if (positional.length === 0) throw new CommandError(`usage: ${usage}`);
  return { flags, positional };
}

function line(tok: LlavaTokenizer, text: string, special: boolean): string {
  const ids = tok.encode(text, special);
  return `${JSON.stringify({ ids, tokens: tok.tokens(ids), decoded: tok.decode(ids, true) })}\n`;
}

export async function runTokenizeCommand(args: string[]): Promise<number> {
  const usage = 'yollava tokenize <model-dir> [--no-special] [TEXT]';
  const { flags, positional } = splitArgs(args, ['--no-special'], usage);
  if (positional.length > 2) throw new CommandError(`give TEXT as one argument (quote it)\nusage: ${usage}`);
  const tok = LlavaTokenizer.load(positional[0]!);
  const special = !flags.has('--no-special');
  if (positional.length === 2) {
    process.stdout.write(line(tok, positional[1]!, special));
    return 0;
  }
  let n = 0;
  for await (const raw of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    n++;
    if (!raw.trim()) continue;
    let text: unknown;
    try {
      text = JSON.parse(raw);
    } catch (e) {
      throw new CommandError(`stdin line ${n}: not JSON: ${(e as Error).message}`);
    }
    if (typeof text !== 'string') throw new CommandError(`stdin line ${n}: expected a JSON string`);
    process.stdout.write(line(tok, text, special));
  }
  return 0;
}

export async function runRenderChatCommand(args: string[]): Promise<number> {
  const usage = 'yollava render-chat <model-dir> [--no-generation-prompt] < messages.json';
  const { flags, positional } = splitArgs(args, ['--no-generation-prompt'], usage);
  const dir = positional[0]!;
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const messages = parseMessages(Buffer.concat(chunks).toString('utf8'));
  const tok = LlavaTokenizer.load(dir);
  const template = loadChatTemplate(dir, { bos: tok.bosToken, eos: tok.eosToken });
  const prompt = template.renderHf(messages, !flags.has('--no-generation-prompt'));
  process.stdout.write(`${prompt}\n${JSON.stringify({ ids: tok.encode(prompt) })}\n`);
  return 0;
}

function parseMessages(text: string): HfChatMessage[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new CommandError(`stdin: not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(v)) throw new CommandError('stdin: expected a JSON array of messages');
  return v.map((m: unknown, i) => {
    const where = `stdin: message ${i}`;
    if (!m || typeof m !== 'object') throw new CommandError(`${where}: expected an object`);
    const { role, content } = m as Record<string, unknown>;
    if (typeof role !== 'string') throw new CommandError(`${where}: "role" must be a string`);
    if (typeof content === 'string') return { role, content };
    if (!Array.isArray(content)) throw new CommandError(`${where}: "content" must be a string or a list`);
    return {
      role,
      content: content.map((c: unknown, j) => {
        const part = c as Record<string, unknown> | null;
        if (part?.['type'] === 'image') return { type: 'image' as const };
        if (part?.['type'] === 'text' && typeof part['text'] === 'string')
          return { type: 'text' as const, text: part['text'] };
        throw new CommandError(
          `${where}, content ${j}: expected {"type":"image"} or {"type":"text","text":…}`,
        );
      }),
    };
  });
}

export { CommandError as TokenizerCommandError };
