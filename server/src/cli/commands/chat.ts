// yollava chat: one question about one or several subjects, streamed.
import { chat } from '../../engine';
import { out, UsageError, type Flags, type CliCommand } from '../flags';

async function run(flags: Flags): Promise<number> {
  if (!flags.positional.length || !flags.ask)
    throw new UsageError('usage: yollava chat <file.subject.yaml>... --ask "question" [--image photo]');
  let answer = '';
  for await (const delta of chat(flags.positional, flags.ask, {
    modelDir: flags.model,
    image: flags.image,
    maxNewTokens: 64,
    mode: flags.mode,
    onModes: (modes) => {
      const instant = modes.filter((m) => m.mode === 'reference').map((m) => `<${m.name}>`);
      if (instant.length && !flags.json)
        process.stderr.write(
          `instant mode: ${instant.join(', ')} not trained yet; answering from reference photos\n`,
        );
    },
  })) {
    answer += delta;
    if (!flags.json) out(delta);
  }
  out(flags.json ? `${JSON.stringify({ answer: answer.trim() })}\n` : '\n');
  return 0;
}

export const chatCommand: CliCommand = {
  name: 'chat',
  usage: 'yollava chat <file>... --ask "question" [--image photo]   talk about one or several subjects',
  run,
};
