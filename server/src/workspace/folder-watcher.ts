// Watches the folders that open subject files refer to, and reports which subject files to revalidate
// when a photo is added, removed or replaced.
import { watch, type FSWatcher } from 'chokidar';
import path from 'node:path';

export class FolderWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  /** folder → subject files that refer to it */
  private readonly users = new Map<string, Set<string>>();

  constructor(private readonly onChange: (subjectFiles: string[], changed: string) => void) {}

  /** Sets the folders `subjectFile` depends on (previous ones it no longer uses are released). */
  async setFolders(subjectFile: string, folders: string[]): Promise<void> {
    const wanted = new Set(folders.map((f) => path.resolve(f)));
    for (const [folder, users] of this.users) {
      if (users.has(subjectFile) && !wanted.has(folder)) {
        users.delete(subjectFile);
        if (!users.size) await this.release(folder);
      }
    }
    for (const folder of wanted) {
      let users = this.users.get(folder);
      if (!users) {
        users = new Set();
        this.users.set(folder, users);
        const w = watch(folder, {
          ignoreInitial: true,
          depth: 0,
          followSymlinks: false,
          awaitWriteFinish: { stabilityThreshold: 150, pollInterval: 50 },
        });
        w.on('all', (_event, changed) => this.onChange([...(this.users.get(folder) ?? [])], changed));
        w.on('error', () => undefined); // a vanished folder is reported by validation, not by the watcher
        this.watchers.set(folder, w);
      }
      users.add(subjectFile);
    }
  }

  async forget(subjectFile: string): Promise<void> {
    await this.setFolders(subjectFile, []);
  }

  private async release(folder: string): Promise<void> {
    this.users.delete(folder);
    await this.watchers.get(folder)?.close();
    this.watchers.delete(folder);
  }

  async close(): Promise<void> {
    for (const w of this.watchers.values()) await w.close();
    this.watchers.clear();
    this.users.clear();
  }
}
