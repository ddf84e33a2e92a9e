// Parses subject files on a thread of its own (parse-worker-entry.ts), so that hover and completion never
// wait for a parse. A parse in flight cannot be stopped; validation.ts therefore runs one parse per
// document at a time, newest text first. A thread that takes too long is replaced.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { fromPortable, type PortableParse } from '../engine/subject/portable-parse';
import { DatasetError, FILE_CAPS, type ParsedSubject } from '../engine';

/** Documents longer than this are not parsed (the same cap as a subject file read from disk). */
const MAX_DOCUMENT_CHARS = FILE_CAPS.subject;

/** A parse taking longer than this is abandoned: the thread is replaced and the text reported as too big. */
const PARSE_TIMEOUT_MS = 20_000;

function startParseWorker(): Worker {
  const bundled = path.join(__dirname, 'parse-worker.js');
  if (existsSync(bundled)) return new Worker(bundled);
  const source = path.join(__dirname, 'parse-worker-entry.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true });
}

interface WorkerAnswer {
  parse?: PortableParse;
  known?: string[];
  files?: string[];
  datasetError?: { message: string; field: string };
  error?: string;
}

export class SubjectParser {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, (r: WorkerAnswer) => void>();

  /** Parses `text` on the parsing thread; a parse that fails or times out gives a ranged diagnostic instead. */
  parse(text: string): Promise<ParsedSubject> {
    // A subject file is a few hundred bytes; one of megabytes is refused before anything copies it across
    // threads or builds a YAML tree of it (50 MB took 11–22 s and 2–3 GB).
    if (text.length > MAX_DOCUMENT_CHARS)
      return Promise.resolve(
        failed(
          text.slice(0, 1024),
          `the file is ${(text.length / 2 ** 20).toFixed(1)} MB; a subject file is a few hundred bytes, and one over ${MAX_DOCUMENT_CHARS / 2 ** 20} MB is not checked`,
        ),
      );
    const w = this.thread();
    const id = this.nextId++;
    return new Promise<ParsedSubject>((resolve) => {
      const timer = setTimeout(() => {
        this.restart();
        resolve(tooSlow(text));
      }, PARSE_TIMEOUT_MS);
      this.waiting.set(id, (r) => {
        clearTimeout(timer);
        resolve(r.parse ? fromPortable(text, r.parse) : failed(text, r.error ?? 'unknown error'));
      });
      w.postMessage({ id, text });
    });
  }

  /**
   * Which of `words` the tokenizer of `modelDir` has as tokens, read on the parsing thread (a tokenizer.json
   * may be tens of MB). Rejects with the reason when the tokenizer cannot be read, or takes too long.
   */
  knownTokens(modelDir: string, words: string[]): Promise<Set<string>> {
    const w = this.thread();
    const id = this.nextId++;
    return new Promise<Set<string>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.restart();
        reject(new Error(`reading the tokenizer of ${modelDir} took more than ${PARSE_TIMEOUT_MS / 1000} s`));
      }, PARSE_TIMEOUT_MS);
      this.waiting.set(id, (r) => {
        clearTimeout(timer);
        if (r.known) resolve(new Set(r.known));
        else reject(new Error(r.error ?? 'unknown error'));
      });
      w.postMessage({ id, vocabulary: { modelDir, words } });
    });
  }

  /** resolveImages on the parsing thread; rejects with a DatasetError as resolveImages throws it. */
  resolveImages(baseDir: string, source: string, field: string): Promise<string[]> {
    const w = this.thread();
    const id = this.nextId++;
    return new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.restart();
        reject(
          new DatasetError(
            `${field}: listing "${source}" took more than ${PARSE_TIMEOUT_MS / 1000} s`,
            field,
          ),
        );
      }, PARSE_TIMEOUT_MS);
      this.waiting.set(id, (r) => {
        clearTimeout(timer);
        if (r.files) resolve(r.files);
        else if (r.datasetError) reject(new DatasetError(r.datasetError.message, r.datasetError.field));
        else reject(new Error(r.error ?? 'unknown error'));
      });
      w.postMessage({ id, resolve: { baseDir, source, field } });
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    await w?.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const w = startParseWorker();
    w.unref();
    w.on('message', (m: WorkerAnswer & { id: number }) => {
      const done = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      done?.(m);
    });
    const fail = (why: string): void => {
      if (this.worker !== w) return;
      this.worker = null;
      for (const [id, done] of this.waiting) {
        this.waiting.delete(id);
        done({ error: why });
      }
    };
    w.on('error', (e) => fail(`the parser crashed: ${e.message}`));
    w.on('exit', (code) => fail(`the parser exited (${code})`));
    this.worker = w;
    return w;
  }

  private restart(): void {
    const w = this.worker;
    this.worker = null;
    for (const [id, done] of this.waiting) {
      this.waiting.delete(id);
      done({ error: 'superseded' });
    }
    void w?.terminate();
  }
}

function failed(text: string, why: string): ParsedSubject {
  return fromPortable(text, {
    value: null,
    diagnostics: [
      {
        start: 0,
        end: Math.min(1, text.length),
        severity: 'error',
        message: `YAML: ${why}`,
        field: '',
        code: 'parse-failed',
      },
    ],
    ranges: {},
  });
}

function tooSlow(text: string): ParsedSubject {
  return failed(
    text,
    `parsing took longer than ${PARSE_TIMEOUT_MS / 1000} s (${text.length} characters); the file is too big to check`,
  );
}
