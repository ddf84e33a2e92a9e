// What every dataset rule works with: the subject file and its parse, the context the caller gave, the
// images found so far and their checks, and `diag`, which places a diagnostic on a field.
import type { ImageCheck, ImageCheckCache } from '../image-checks';
import type { ParsedSubject, SubjectDiagnostic, SubjectFile } from '../subject-file';

export interface DatasetContext {
  cache: ImageCheckCache;
  /** Other subject files' names → their files. */
  otherNames: Map<string, string[]>;
  /** Whether a word is already in the selected model's vocabulary (undefined: no model to ask). */
  isVocabularyWord?: (word: string) => boolean;
  /** Images smaller than this on either side are flagged. */
  minSide?: number;
  /** perceptual-hash distance at or under which two photos count as near duplicates */
  nearDuplicateBits?: number;
  /**
   * The workspace folders: image folders that resolve outside all of them (through "../", an absolute
   * path or a symbolic link) get a warning. Undefined: no workspace, no check.
   */
  workspaceRoots?: string[];
  /**
   * False in an untrusted workspace (Restricted Mode): a source outside `workspaceRoots` is reported but
   * neither listed nor read, so that a cloned workspace cannot make the editor read the user's other files.
   */
  readOutside?: boolean;
  /** The negative pools used when the file names none (the editor's setting, the CLI's --pools). */
  defaultPools?: string[];
  /**
   * Lists a source's images (see resolveImages; throws DatasetError). The language server passes one that
   * walks on its parsing thread, so that a glob over a large tree never holds up its message loop.
   * Default: resolveImages, here.
   */
  resolveImages?: (baseDir: string, source: string, field: string) => Promise<string[]>;
}

export interface DatasetSummary {
  /** Resolved images per field ("images.train", "images.test", "negatives.pools.0", …). */
  images: Map<string, string[]>;
  checks: Map<string, ImageCheck>;
}

export interface RuleRun {
  file: string;
  /** The subject file's folder. */
  dir: string;
  parsed: ParsedSubject;
  value: SubjectFile;
  ctx: DatasetContext;
  summary: DatasetSummary;
  diag(
    p: (string | number)[],
    severity: SubjectDiagnostic['severity'],
    code: string,
    message: string,
    data?: unknown,
  ): void;
}
