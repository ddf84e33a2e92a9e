// yollava validate: the editor's schema and dataset checks, as file:line:column: messages.
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  siblingNames,
  lineColumn,
  parseSubject,
  type SubjectDiagnostic,
  validateSubject,
  ImageCheckCache,
  LlavaTokenizer,
  defaultModelDir,
  FILE_CAPS,
  readRegularTextSync,
} from '../../engine';
import { out, UsageError, type Flags, type CliCommand } from '../flags';

async function run(flags: Flags): Promise<number> {
  if (!flags.positional.length) throw new UsageError('usage: yollava validate <file.subject.yaml>...');
  let errors = 0;
  const report: Problem[] = [];
  for (const file of flags.positional) {
    const problems = await validateFile(file, flags);
    errors += problems.filter((p) => p.severity === 'error').length;
    report.push(...problems);
  }
  if (flags.json) out(`${JSON.stringify({ ok: errors === 0, problems: report })}\n`);
  else {
    for (const p of report) out(`${p.file}:${p.line}:${p.column}: ${p.severity}: ${p.message}\n`);
    if (!report.length) out(`${flags.positional.length} subject file(s): no problems\n`);
  }
  return errors ? 1 : 0;
}

/** Schema and dataset problems of one subject file (the same checks as the editor's), with line and column. */
async function validateFile(file: string, flags: Flags): Promise<Problem[]> {
  if (!existsSync(file)) return [{ file, line: 1, column: 1, severity: 'error', message: 'file not found' }];
  let text: string;
  try {
    text = readRegularTextSync(file, 'a subject file', FILE_CAPS.subject);
  } catch (e) {
    return [{ file, line: 1, column: 1, severity: 'error', message: (e as Error).message }];
  }
  const otherNames = siblingNames(file);
  const parsed = parseSubject(text);
  const declared = parsed.value?.model;
  // The model training would use, as the editor picks it: the file's, --model, else the default model.
  const modelDir = declared ? path.resolve(path.dirname(file), declared) : (flags.model ?? defaultModelDir());
  let isVocabularyWord: ((w: string) => boolean) | undefined;
  if (modelDir && existsSync(path.join(modelDir, 'tokenizer.json'))) {
    try {
      const tok = LlavaTokenizer.load(modelDir);
      isVocabularyWord = (w) => tok.hasToken(w);
    } catch {
      // an unreadable tokenizer is the model's problem, reported where the model is used
    }
  }
  const v = await validateSubject(path.resolve(file), parsed, {
    cache: new ImageCheckCache(),
    otherNames,
    isVocabularyWord,
    defaultPools: flags.pools,
    // The CLI's workspace is the folder above the subject's own (where its siblings are looked for): photo
    // folders outside it get the editor's warning.
    workspaceRoots: [path.dirname(path.dirname(path.resolve(file)))],
  });
  return v.diagnostics.map((d: SubjectDiagnostic) => {
    const { line, column } = lineColumn(v.parsed, d.start);
    return { file, line, column, severity: d.severity, message: d.message };
  });
}

interface Problem {
  file: string;
  line: number;
  column: number;
  severity: string;
  message: string;
}

export const validateCommand: CliCommand = {
  name: 'validate',
  usage:
    'yollava validate <file.subject.yaml>...  check subject files and their photos (file:line:column: message)',
  run,
};
