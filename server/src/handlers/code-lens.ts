// CodeLens on the name line: the training job as it runs ("training 34% · loss 0.42"), then how the
// trained concept did on its training photos and when ("recognition 0.93 (training photos) · trained
// 2 min ago"), marked stale when the file or its photos changed since; with the commands that act on the
// subject.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { readConceptMeta, trainingRecognition } from '../engine';
import type { TrainingRun } from '../protocol';

export interface Lens {
  offset: number;
  title: string;
  /** A client command (the extension registers them); empty: a label only. */
  command: string;
}

export interface LensInput {
  file: string;
  name: string | undefined;
  nameOffset: number;
  /** The training job of this subject now, if one is queued or running. */
  job?: 'queued' | 'running';
  /** The subject's last training run in this session. */
  run?: TrainingRun;
  /** Files whose change makes a trained concept stale: the subject file and its photos. */
  inputs: string[];
  now: number;
  /** The subject's last save was an auto-save, and it did not train. */
  autoSavedUntrained?: boolean;
}

export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}

function newestChange(files: string[]): number {
  let newest = 0;
  for (const f of files.slice(0, 500)) {
    try {
      newest = Math.max(newest, statSync(f).mtimeMs);
    } catch {
      // a file that vanished shows up in validation, not here
    }
  }
  return newest;
}

/** The longest free text one lens shows (a self-description, an error). */
const MAX_NOTE = 60;

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function subjectLenses(i: LensInput): Lens[] {
  if (!i.name) return [];
  const at = (title: string, command = ''): Lens => ({ offset: i.nameOffset, title, command });
  const lenses: Lens[] = [];
  if (i.job === 'queued') lenses.push(at('training queued'));
  else if (i.job === 'running') {
    const r = i.run;
    const last = r?.lastLoss;
    lenses.push(
      at(
        r && r.phase !== 'train' && r.phase !== 'select'
          ? `training ${Math.floor(r.percent)}% · ${r.phase === 'embed' ? 'reading photos' : r.phase === 'conversations' ? 'writing conversations' : 'loading'}`
          : `training ${Math.floor(r?.percent ?? 0)}%${last !== undefined ? ` · loss ${last.toFixed(2)}` : ''}`,
        'yollava.showTraining',
      ),
      at('Cancel', 'yollava.cancelTraining'),
    );
    return lenses;
  }
  // The commands come right after one short status, so that however much the notes say, they stay on
  // screen; the notes follow them.
  const notes: Lens[] = [];
  const artifact = path.join(path.dirname(i.file), '.yollava', i.name);
  if (existsSync(path.join(artifact, 'concept.json'))) {
    try {
      // Validated and size-capped (concept-meta.ts): this runs on every CodeLens request.
      const m = readConceptMeta(artifact, i.name);
      if (!m) throw new Error('concept.json vanished');
      // Its training photos, not held-out ones (Evaluate gives those); an older concept stored the figure
      // only at its own best threshold, and the lens says so.
      const r = trainingRecognition(m);
      const trainedAt = Date.parse(m.createdAt);
      const stale = newestChange(i.inputs) > trainedAt;
      const figure = r ? `${r.weighted.toFixed(2)} (training photos${r.raw ? '' : ', own threshold'})` : '?';
      lenses.push(
        at(
          `recognition ${figure} · trained ${ago(i.now - trainedAt)}${stale ? ' · stale: changed since' : ''}`,
          'yollava.showTraining',
        ),
      );
      // What the concept learned, in its own words (self-description.ts); the lens opens the chat.
      if (typeof m.selfDescription === 'string')
        notes.push(at(`says: ${clip(m.selfDescription, MAX_NOTE)}`, 'yollava.openChat'));
    } catch (e) {
      const why = (e as Error).message.replace(/^.*this concept cannot be used: /, '');
      lenses.push(at(`this concept cannot be used: ${clip(why, MAX_NOTE)} · Retrain`, 'yollava.train'));
    }
  } else lenses.push(at('not trained yet'));
  if (i.autoSavedUntrained)
    notes.unshift(
      at('saved: not training, save with Ctrl+S or turn on yollava.trainOnAutoSave', 'yollava.train'),
    );
  if (i.run?.state === 'failed' || i.run?.state === 'cancelled')
    notes.push(at(`last training ${i.run.state}${i.run.error ? `: ${clip(i.run.error, MAX_NOTE)}` : ''}`));
  lenses.push(
    at('Train', 'yollava.train'),
    at('Evaluate', 'yollava.evaluate'),
    at('Chat', 'yollava.openChat'),
    at('Preview', 'yollava.showRecognitionPreview'),
    ...notes,
  );
  return lenses;
}
