// Progress on stderr: a redrawn bar in a terminal, one line per phase change or epoch otherwise.
import type { PersonalizeProgress } from '../engine';

export function progressPrinter(enabled: boolean): { update(p: PersonalizeProgress): void; done(): void } {
  const tty = process.stderr.isTTY;
  let last = '';
  const line = (text: string): void => {
    if (tty) process.stderr.write(`\r\x1b[2K${text}`);
    else if (text !== last) process.stderr.write(`${text}\n`);
    last = text;
  };
  const bar = (f: number): string => {
    const w = 24;
    const n = Math.round(Math.min(1, Math.max(0, f)) * w);
    return `[${'#'.repeat(n)}${' '.repeat(w - n)}]`;
  };
  return {
    update(p) {
      if (!enabled) return;
      if (p.phase === 'load') {
        // Only worth a line for a model big enough to take a while.
        if (p.total > 500e6 && (tty || p.done === p.total))
          line(
            `load model    ${bar(p.done / p.total)} ${(p.done / 1e9).toFixed(1)}/${(p.total / 1e9).toFixed(1)} GB`,
          );
      } else if (p.phase === 'embed' || p.phase === 'conversations') {
        if (tty || p.done === p.total)
          line(`${p.phase.padEnd(13)} ${bar(p.done / p.total)} ${p.done}/${p.total}`);
      } else if (p.phase === 'train') {
        if (tty)
          line(
            `epoch ${p.epoch}/${p.epochs} ${bar(p.step / p.steps)} step ${p.step}/${p.steps} loss ${p.loss.toFixed(3)} ETA ${Math.ceil(p.etaSeconds)}s`,
          );
      } else if (p.phase === 'select')
        line(`epoch ${p.epoch}/${p.epochs} done, mean loss ${p.loss.toFixed(3)}`);
    },
    done() {
      if (enabled && tty) process.stderr.write('\n');
    },
  };
}
