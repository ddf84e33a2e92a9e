// yollava unlock: breaks a training lock whose holder is gone (or, with --force, of another host).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { breakTrainingLock, loadSubject, trainingLockPath } from '../../engine';
import { out, requireArg, type Flags, type CliCommand } from '../flags';

async function run(flags: Flags): Promise<number> {
  const file = requireArg(flags, 'unlock <file.subject.yaml>');
  const subject = loadSubject(path.resolve(file));
  const r = breakTrainingLock(trainingLockPath(subject.dir, subject.name), flags.force);
  out(`${r.why}\n`);
  return r.removed || !existsSync(trainingLockPath(subject.dir, subject.name)) ? 0 : 1;
}

export const unlockCommand: CliCommand = {
  name: 'unlock',
  usage:
    'yollava unlock <file.subject.yaml> [--force]   remove a training lock left by a process that is gone',
  run,
};
