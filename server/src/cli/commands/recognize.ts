// yollava recognize: is the subject in these photos (trained concept, or instant mode).
import { resolveImages, recognize } from '../../engine';
import { out, UsageError, type Flags, type CliCommand } from '../flags';

async function run(flags: Flags): Promise<number> {
  const [file, ...targets] = flags.positional;
  if (!file || !targets.length)
    throw new UsageError('usage: yollava recognize <file.subject.yaml> <image|folder>...');
  const images = targets.flatMap((t) => resolveImages(process.cwd(), t, 'images'));
  const r = await recognize(file, images, {
    modelDir: flags.model,
    provider: flags.provider,
    mode: flags.mode,
  });
  if (flags.json) out(`${JSON.stringify(r)}\n`);
  else {
    if (r[0]?.mode === 'reference')
      process.stderr.write(
        'instant mode: the subject is not trained yet, so its training photos serve as references in the prompt\n',
      );
    for (const x of r) out(`${x.present ? 'yes' : 'no '}  ${x.score.toFixed(3).padStart(8)}  ${x.image}\n`);
  }
  return 0;
}

export const recognizeCommand: CliCommand = {
  name: 'recognize',
  usage: 'yollava recognize <file> <image|folder>  is the subject in these photos?',
  run,
};
