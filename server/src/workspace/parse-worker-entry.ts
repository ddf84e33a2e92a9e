// The parsing thread of the language server: subject files are parsed here, so that a huge or hostile
// file never holds up hover, completion or the next edit on the server's message loop.
import { parentPort } from 'node:worker_threads';
import { parsePortable } from '../engine/subject/portable-parse';

parentPort!.on('message', (m: { id: number; text: string }) => {
  try {
    parentPort!.postMessage({ id: m.id, parse: parsePortable(m.text) });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: (e as Error).message });
  }
});
