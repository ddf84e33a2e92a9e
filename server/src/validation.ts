// Validation of open subject files as they change: diagnostics with exact ranges, the counts the status
// bar shows, and the folders to watch. A burst of edits makes one validation; a newer edit wins over an
// older validation still running. Another subject's name changing revalidates the others (collisions).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ServerContext } from './context';
import {
  FILE_CAPS,
  lineColumn,
  readRegularTextSync,
  pathSpans,
  validateSubject,
  type SubjectDiagnostic,
} from './engine';
import { ValidatedNotification, type ValidatedParams } from './protocol';
import { FolderWatcher } from './workspace/folder-watcher';

const SEVERITY: Record<SubjectDiagnostic['severity'], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
};

export class Validation {
  private readonly pending = new Map<string, Promise<void>>();
  private readonly seq = new Map<string, number>();
  private readonly parsing = new Map<string, Promise<unknown>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly tokenizerWarned = new Set<string>();
  private readonly watcher: FolderWatcher;
  /** Told when photos or folders of a subject change on disk (a trained concept becomes stale). */
  onFolderChange: (subjectFile: string) => void = () => undefined;

  constructor(private readonly ctx: ServerContext) {
    this.watcher = new FolderWatcher((subjectFiles) => {
      for (const f of subjectFiles) {
        this.onFolderChange(f);
        const doc = ctx.documents.get(pathToFileURL(f).toString());
        if (doc) this.schedule(doc, 0);
      }
    });
    const { documents, connection } = ctx;
    documents.onDidOpen((e) => this.schedule(e.document, 0));
    documents.onDidChangeContent((e) => this.schedule(e.document));
    documents.onDidClose(async (e) => {
      const uri = e.document.uri;
      clearTimeout(this.timers.get(uri));
      this.timers.delete(uri);
      // A validation still running for the closed document must not publish after the clear below.
      this.seq.set(uri, (this.seq.get(uri) ?? 0) + 1);
      // The index goes back to what is on disk (the editor may have held unsaved changes).
      const file = ctx.fileOf(uri);
      let onDisk: string | null = null;
      try {
        onDisk = readRegularTextSync(file, 'a subject file', FILE_CAPS.subject);
      } catch {
        // gone, or no longer a regular file: it names no subject
      }
      const changed = onDisk !== null ? await ctx.index.update(file, onDisk) : (ctx.index.remove(file), true);
      if (changed) this.revalidateOthers(uri);
      ctx.states.delete(uri);
      await this.watcher.forget(file);
      await connection.sendDiagnostics({ uri, diagnostics: [] });
    });
  }

  /** Validates every open document again (settings changed, the workspace was scanned). */
  all(): void {
    this.tokenizerWarned.clear();
    for (const d of this.ctx.documents.all()) this.schedule(d, 0);
  }

  schedule(doc: TextDocument, delayMs = 30): void {
    clearTimeout(this.timers.get(doc.uri));
    const run = (): void => {
      this.timers.delete(doc.uri);
      const p = this.validate(doc).catch((e: Error) =>
        this.ctx.connection.console.error(`yollava: validation failed: ${e.stack ?? e}`),
      );
      this.pending.set(doc.uri, p);
      void p.finally(() => this.pending.get(doc.uri) === p && this.pending.delete(doc.uri));
    };
    if (delayMs === 0) run();
    else this.timers.set(doc.uri, setTimeout(run, delayMs));
  }

  /** Resolves when no validation is pending or scheduled (tests, benchmarks, a save that must know). */
  async idle(uri?: string): Promise<void> {
    for (;;) {
      const timers = uri ? this.timers.has(uri) : this.timers.size > 0;
      const pending = uri ? [this.pending.get(uri)].filter(Boolean) : [...this.pending.values()];
      if (!timers && !pending.length) return;
      await Promise.all(pending);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async close(): Promise<void> {
    await this.ctx.parser.close();
    await this.watcher.close();
  }

  private revalidateOthers(uri: string): void {
    for (const other of this.ctx.documents.all()) if (other.uri !== uri) this.schedule(other);
  }

  /**
   * Whether a word is a token of the subject's model, for the name checks: the few words that matter for
   * this name are asked of the parsing thread, which reads the tokenizer off the message loop.
   */
  private async vocabularyCheck(
    modelDir: string | undefined,
    name: unknown,
  ): Promise<((w: string) => boolean) | undefined> {
    if (!modelDir || typeof name !== 'string' || !existsSync(path.join(modelDir, 'tokenizer.json')))
      return undefined;
    try {
      const known = await this.ctx.parser.knownTokens(modelDir, [name, `<${name}>`]);
      return (w) => known.has(w);
    } catch (e) {
      if (!this.tokenizerWarned.has(modelDir)) {
        this.tokenizerWarned.add(modelDir);
        this.ctx.connection.console.warn(
          `yollava: cannot read the tokenizer of ${modelDir}: ${(e as Error).message}`,
        );
      }
      return undefined;
    }
  }

  private async validate(doc: TextDocument): Promise<void> {
    const { ctx } = this;
    const mine = (this.seq.get(doc.uri) ?? 0) + 1;
    this.seq.set(doc.uri, mine);
    const file = ctx.fileOf(doc.uri);
    const text = doc.getText();
    const s = await ctx.settings(doc.uri);
    // Parsed on the parsing thread: the message loop stays free for hover, completion and newer edits.
    // One parse per document at a time: versions that arrive meanwhile wait, and only the newest runs.
    const inflight = this.parsing.get(doc.uri);
    if (inflight) {
      await inflight;
      if (this.seq.get(doc.uri) !== mine) return;
    }
    const parsing = ctx.parser.parse(text);
    this.parsing.set(doc.uri, parsing);
    const parsed = await parsing;
    if (this.parsing.get(doc.uri) === parsing) this.parsing.delete(doc.uri);
    if (this.seq.get(doc.uri) !== mine) return; // a newer edit is being validated
    if (ctx.index.record(file, parsed.value)) this.revalidateOthers(doc.uri);
    const v = await validateSubject(
      file,
      parsed,
      {
        cache: ctx.imageCache,
        otherNames: ctx.index.byName(),
        isVocabularyWord: await this.vocabularyCheck(ctx.modelDirFor(file, parsed, s), parsed.value?.name),
        // Untrusted with no folder open, the subject's own folder is all it may read.
        workspaceRoots: ctx.roots.length ? ctx.roots : ctx.trusted ? undefined : [path.dirname(file)],
        readOutside: ctx.trusted,
        defaultPools: s.negativePools,
        resolveImages: (baseDir, source, field) => ctx.parser.resolveImages(baseDir, source, field),
      },
      (e) => ctx.connection.console.error(`yollava: dataset check of ${file} failed: ${e.stack ?? e}`),
    );
    if (this.seq.get(doc.uri) !== mine) return; // a newer edit is being validated
    // Mid-edit YAML that does not parse names no folders, but the folders are still there: hover and the
    // image counts keep the last ones seen rather than dropping to 0 until the line is finished.
    const previous = ctx.states.get(doc.uri);
    const summary = parsed.value === null && previous ? previous.summary : v.summary;
    ctx.states.set(doc.uri, { version: doc.version, parsed: v.parsed, summary, errors: v.errors });
    // doc.positionAt scans the whole text for line starts once; a document too large to parse was given a
    // parse of its first lines only (subject-parser.ts), and its positions come from that.
    const positionAt =
      text.length > FILE_CAPS.subject
        ? (offset: number) => {
            const { line, column } = lineColumn(v.parsed, offset);
            return { line: line - 1, character: column - 1 };
          }
        : (offset: number) => doc.positionAt(offset);
    const diagnostics: Diagnostic[] = v.diagnostics.map((d) => ({
      range: { start: positionAt(d.start), end: positionAt(d.end) },
      severity: SEVERITY[d.severity],
      message: d.message,
      source: 'yollava',
      code: d.code,
      data: (d as SubjectDiagnostic & { data?: unknown }).data,
    }));
    await ctx.connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics });
    const images: Record<string, number> = {};
    for (const [k, files] of summary.images)
      images[k] = files.filter((f) => summary.checks.get(f)?.ok).length;
    const params: ValidatedParams = {
      uri: doc.uri,
      name: typeof v.parsed.value?.name === 'string' ? v.parsed.value.name : undefined,
      errors: v.errors,
      warnings: v.warnings,
      images,
    };
    await ctx.connection.sendNotification(ValidatedNotification, params);
    // YAML that does not parse names no folders; the ones named before stay watched, so that a photo
    // added while a line is half typed still marks the concept stale.
    if (parsed.value === null) return;
    const folders = pathSpans(v.parsed, file)
      .filter((p) => p.field !== 'model')
      .map((p) => p.target)
      .filter((t) => ctx.mayTouch(t));
    await this.watcher.setFolders(file, folders);
  }
}
