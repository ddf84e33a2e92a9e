// Instant mode: a subject that has photos but no trained concept is used through its reference photos in
// the prompt — "<bo> is <image><image><image>." — which the default model learned to compare with a photo
// and to read attributes from. <bo> gets an untrained row (the vocabulary mean plus small noise), as any
// made-up name does in pretraining. When training finishes, the trained concept takes over.
import type { LlavaModel } from '../models/llava/model';
import { artifactDir, Concept, loadConcept, readConceptMeta } from './concept';
import type { SubjectSession } from './personalize';

/**
 * How a subject is used: its trained concept, its reference photos, or (asked for by name only) the
 * description in its subject file, in words: "<bo> is a blue dotted dog with a red bow." The last is the
 * baseline that personalization must beat, as the paper's "text prompt" rows are.
 */
export type UseMode = 'trained' | 'reference' | 'description';
export type UseModeSetting = 'auto' | UseMode;
export const USE_MODES: readonly UseModeSetting[] = ['auto', 'trained', 'reference', 'description'];

/** The default model saw one to three reference images per name in pretraining. */
export const MAX_REFERENCES = 3;

export interface SubjectUse {
  mode: UseMode;
  concept: Concept;
  /** Text that introduces the subject at the start of the user turn. */
  prefix: string;
  /** Reference photos whose <image> tokens the prefix holds (reference mode). */
  references: string[];
}

/** Up to `n` training photos, spread over the list. */
export function pickReferences(train: readonly string[], n = MAX_REFERENCES): string[] {
  if (train.length <= n) return [...train];
  return Array.from({ length: n }, (_, i) => train[Math.floor((i * train.length) / n)]!);
}

export function referencePrefix(nameToken: string, references: number): string {
  return `${nameToken} is ${'<image>'.repeat(references)}.`;
}

export function referenceConcept(model: LlavaModel, name: string): Concept {
  return Concept.initialize(model, name, 0, 'all', 'vocab-mean', 1);
}

/**
 * The trained concept when `setting` allows it and one exists; else (auto, or reference) the reference
 * photos. 'trained' without a concept throws the loader's error; a concept that exists but fails to load
 * (corrupt, another base model) throws in every setting rather than silently changing how it answers.
 */
export function subjectUse(s: SubjectSession, setting: UseModeSetting = 'auto'): SubjectUse {
  const dir = artifactDir(s.workspaceDir, s.subject.name);
  if (setting === 'trained' || (setting === 'auto' && readConceptMeta(dir, s.subject.name))) {
    const { concept } = loadConcept(dir, s.model, s.subject.name);
    return { mode: 'trained', concept, prefix: '', references: [] };
  }
  const concept = referenceConcept(s.model, s.subject.name);
  if (setting === 'description') {
    const d = s.subject.description?.trim().replace(/\.+$/, '');
    if (!d) throw new Error(`${s.subject.file}: description: the subject file has none to use`);
    return { mode: 'description', concept, prefix: `${concept.tokens.nameToken} is ${d}.`, references: [] };
  }
  const references = pickReferences(s.subject.train);
  if (!references.length) throw new Error(`${s.subject.file}: images.train: no photos to use as references`);
  return {
    mode: 'reference',
    concept,
    prefix: referencePrefix(concept.tokens.nameToken, references.length),
    references,
  };
}
