// What every part of the language server shares: the connection, the open documents and their last
// validation, the workspace's subjects, the settings per resource, and the job runner. Features get this
// object and stay thin.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TextDocuments, type ClientCapabilities, type Connection } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  defaultModelDir,
  ImageCheckCache,
  insideRoots,
  type DatasetSummary,
  type ParsedSubject,
} from './engine';
import { SubjectJobs, type JobSettings } from './jobs/subject-jobs';
import { DEFAULT_SETTINGS, type JobStateParams, type YollavaSettings } from './protocol';
import { SubjectIndex } from './workspace/subject-index';
import { SubjectParser } from './workspace/subject-parser';

/** The last validation of an open subject file. */
export interface DocState {
  version: number;
  parsed: ParsedSubject;
  summary: DatasetSummary;
  errors: number;
}

export class ServerContext {
  readonly documents = new TextDocuments(TextDocument);
  readonly states = new Map<string, DocState>();
  /** Parses subject files on a thread of its own. */
  readonly parser = new SubjectParser();
  readonly index = new SubjectIndex((text) => this.parser.parse(text));
  readonly imageCache = new ImageCheckCache();
  readonly jobs: SubjectJobs;
  roots: string[] = [];
  /** False in VS Code's Restricted Mode: validate, but load nothing from paths the workspace chose. */
  trusted = true;
  capabilities: ClientCapabilities = {};
  /** Told of every job's state and progress (the jobs feature turns them into LSP progress). */
  readonly jobListeners: ((p: JobStateParams) => void)[] = [];
  /** Subjects whose last save was an auto-save that did not train (the CodeLens says so). */
  readonly autoSavedUntrained = new Set<string>();
  private lensTimer: NodeJS.Timeout | undefined;

  constructor(readonly connection: Connection) {
    this.jobs = new SubjectJobs({
      onJobState: (p) => this.jobListeners.forEach((l) => l(p)),
      log: (line) => connection.console.info(line),
    });
  }

  /**
   * Whether the server may read or create `file` for a workspace that chose the path: in a trusted
   * workspace anything; in Restricted Mode only what lies inside its folders (symlinks resolved).
   */
  mayTouch(file: string): boolean {
    return this.trusted || this.insideWorkspace(file);
  }

  /** Whether `file` lies inside one of the workspace's folders (none open: nothing does). */
  insideWorkspace(file: string): boolean {
    return insideRoots(file, this.roots);
  }

  /** Asks the client for new CodeLenses: at once on a change of state, at most once a second otherwise. */
  refreshCodeLenses(now: boolean): void {
    if (!this.capabilities.workspace?.codeLens?.refreshSupport) return;
    const send = (): void => {
      this.lensTimer = undefined;
      void this.connection.sendRequest('workspace/codeLens/refresh').catch(() => undefined);
    };
    if (now) {
      clearTimeout(this.lensTimer);
      send();
    } else this.lensTimer ??= setTimeout(send, 1000);
  }

  fileOf(uri: string): string {
    return fileURLToPath(uri);
  }

  async settings(uri: string): Promise<YollavaSettings> {
    if (!this.capabilities.workspace?.configuration) return DEFAULT_SETTINGS;
    try {
      const s = (await this.connection.workspace.getConfiguration({
        scopeUri: uri,
        section: 'yollava',
      })) as Partial<YollavaSettings> | null;
      return { ...DEFAULT_SETTINGS, ...(s ?? {}) };
    } catch {
      return DEFAULT_SETTINGS;
    }
  }

  /**
   * The model a subject uses: its own `model`, else the setting, else the embedded default. In
   * Restricted Mode nothing is read from a folder the workspace chose: only the embedded model.
   */
  modelDirFor(file: string, parsed: ParsedSubject | undefined, s: YollavaSettings): string | undefined {
    if (!this.trusted) return defaultModelDir();
    if (parsed?.value?.model) return path.resolve(path.dirname(file), parsed.value.model);
    if (s.modelPath) return path.resolve(this.roots[0] ?? path.dirname(file), s.modelPath);
    return defaultModelDir();
  }

  /** What a job on this subject runs on, from its settings. */
  async jobSettings(uri: string): Promise<JobSettings> {
    const s = await this.settings(uri);
    const root = this.roots[0] ?? path.dirname(this.fileOf(uri));
    return {
      // The subject's own `model` comes first (the engine reads it); the setting fills in where it is absent.
      modelDir: s.modelPath ? path.resolve(root, s.modelPath) : undefined,
      provider: s.executionProvider,
      pools: s.negativePools.map((p) => path.resolve(root, p)),
    };
  }
}
