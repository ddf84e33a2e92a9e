// The parsing thread of the language server: subject files are parsed here, and the model's tokenizer is
// read here to tell whether a subject's name is already a token, so that a huge or hostile file (a 30 MB
// tokenizer.json, a 50 MB subject file) never holds up hover, completion or the next edit on the server's
// message loop. Image sources are listed here too: a glob such as "/usr/**/*.png" walks thousands of entries.
import { statSync } from 'node:fs';
import path from 'node:path';
import { parentPort } from 'node:worker_threads';
import { LlavaTokenizer } from '../engine/models/llava/tokenizer';
import { DatasetError, resolveImages } from '../engine/subject/image-files';
import { parsePortable } from '../engine/subject/portable-parse';

type ParseWorkerRequest =
  | { id: number; text: string }
  | { id: number; vocabulary: { modelDir: string; words: string[] } }
  | { id: number; resolve: { baseDir: string; source: string; field: string } };

/** Tokenizers by model folder, kept while their tokenizer.json is unchanged. */
const tokenizers = new Map<string, { stamp: string; tok: LlavaTokenizer }>();

function tokenizerOf(modelDir: string): LlavaTokenizer {
  const st = statSync(path.join(modelDir, 'tokenizer.json'));
  const stamp = `${st.mtimeMs}:${st.size}`;
  const hit = tokenizers.get(modelDir);
  if (hit?.stamp === stamp) return hit.tok;
  const tok = LlavaTokenizer.load(modelDir);
  tokenizers.set(modelDir, { stamp, tok });
  return tok;
}

parentPort!.on('message', (m: ParseWorkerRequest) => {
  try {
    if ('resolve' in m) {
      try {
        const r = m.resolve;
        parentPort!.postMessage({ id: m.id, files: resolveImages(r.baseDir, r.source, r.field) });
      } catch (e) {
        if (!(e instanceof DatasetError)) throw e;
        parentPort!.postMessage({ id: m.id, datasetError: { message: e.message, field: e.field } });
      }
    } else if ('vocabulary' in m) {
      const tok = tokenizerOf(m.vocabulary.modelDir);
      parentPort!.postMessage({ id: m.id, known: m.vocabulary.words.filter((w) => tok.hasToken(w)) });
    } else parentPort!.postMessage({ id: m.id, parse: parsePortable(m.text) });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: (e as Error).message });
  }
});
