// The engine's public entry: what the CLI and the language server use. Everything else under engine/ is
// the engine's own business and may change without the front ends noticing.

// Subject files and datasets (one implementation for the editor and the command line)
export { parseSubject, lineColumn, formatDiagnostic } from './subject/subject-file';
export type { ParsedSubject, SubjectDiagnostic, SubjectFile } from './subject/subject-file';
export { checkDataset } from './subject/dataset-checks';
export type { DatasetContext, DatasetSummary } from './subject/dataset-checks';
export { validateSubject, imageLabels } from './subject/validate';
export type { SubjectValidation } from './subject/validate';
export { ImageCheckCache } from './subject/image-checks';
export { DatasetError, IMAGE_EXTENSIONS, resolveImages } from './subject/image-files';
export { cursorContext, isFolderField, keyAtLine, schemaAt } from './subject/schema-navigation';
export type { SchemaNode } from './subject/schema-navigation';
export { loadSubject } from './subject/subject';

// Models
export { LlavaModel } from './models/llava/model';
export { LlavaTokenizer } from './models/llava/tokenizer';
export { loadChatTemplate, type HfChatMessage } from './models/llava/chat-template';
export { inspectModel } from './models/llava/inspect';
export { runGoldenCheck } from './checks/golden-check';
export { availableProviders, PROVIDER_SETTINGS } from './runtime/session';
export type { ProviderSetting } from './runtime/session';

// Work off the caller's event loop
export { runInWorker, ResidentWorker, AbortedError, WorkerTaskError } from './runtime/worker';
export { runTask, taskWorker, type WorkerTaskMap } from './tasks/worker-tasks';
export type { WorkerRunOptions } from './runtime/worker';
export type { ChatPayload, ChatResult, EvaluatePayload, RecognizePayload } from './tasks/worker-tasks';

// Personalization and its use
export type { PersonalizeProgress, PersonalizeResult } from './personalize/personalize';
export { evaluateSubject } from './personalize/evaluate';
export { siblingNames } from './subject/sibling-subjects';
export type { EvalResult } from './personalize/evaluate';
export { chat, recognize, MAX_HISTORY_MESSAGES } from './personalize/use';
export type { Recognition } from './personalize/use';
export { USE_MODES } from './personalize/reference-mode';
export type { UseModeSetting } from './personalize/reference-mode';
export type { ConceptMeta } from './personalize/concept';
export { ConceptError, readConceptMeta, trainingRecognition } from './personalize/concept';

// ToyWorld and the embedded default model
export { defaultModelDir, DEFAULT_MODEL_RELATIVE } from './toyworld/default-model';
export { pretrain, readPretrainRecord } from './toyworld/pretrain';
export type { PretrainProgress } from './toyworld/pretrain';
export { writeTrainingReport } from './toyworld/training-report';
export type { ReportStage } from './toyworld/training-report';
export { DEFAULT_RECIPE, readRecipeRecords, runRecipe } from './toyworld/pretrain-recipe';
export { writeToyworldSubject } from './toyworld/workspace';
export { SKILLS } from './toyworld/skills';
export type { Skill } from './toyworld/skills';
export { describe, KIND_NAMES, KINDS } from './toyworld/world';
export type { ObjectInstance, Kind } from './toyworld/world';
export { FILE_CAPS, readRegularFile, readRegularTextSync } from './io/regular-file';
export { breakTrainingLock, trainingLockPath } from './personalize/training-lock';
export { insideRoots } from './io/inside-roots';
export { pathSpans, type PathSpan } from './subject/path-spans';
