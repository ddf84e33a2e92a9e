// CodeLens on the name line: how the trained concept did (from .yollava/<name>/concept.json), with
// Train and Evaluate commands; "not trained yet" before the first run.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ConceptMeta } from '../engine/personalize/concept';

export interface Lens {
  offset: number;
  title: string;
  command: string;
}

export function subjectLenses(file: string, name: string | undefined, nameOffset: number): Lens[] {
  if (!name) return [];
  const metaFile = path.join(path.dirname(file), '.yollava', name, 'concept.json');
  let status = 'not trained yet';
  if (existsSync(metaFile)) {
    try {
      const m = JSON.parse(readFileSync(metaFile, 'utf8')) as ConceptMeta;
      const w = m.metrics['train_recognition_weighted'];
      status = `trained ${m.createdAt.slice(0, 16).replace('T', ' ')}: recognition ${typeof w === 'number' ? w.toFixed(3) : '?'} on the training data (epoch ${m.bestEpoch})`;
    } catch {
      status = 'concept.json is unreadable: train again';
    }
  }
  return [
    { offset: nameOffset, title: status, command: '' },
    { offset: nameOffset, title: 'Train', command: 'yollava.train' },
    { offset: nameOffset, title: 'Evaluate', command: 'yollava.evaluate' },
  ];
}
