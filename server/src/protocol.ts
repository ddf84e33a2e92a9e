// Every custom message between the extension and the language server. Standard LSP messages are not here.

/** Server → client, after each validation of a subject file: counts for the status bar and CodeLens. */
export const ValidatedNotification = 'yollava/validated';
export interface ValidatedParams {
  uri: string;
  name?: string;
  errors: number;
  warnings: number;
  /** Usable images per field, e.g. { "images.train": 5 }. */
  images: Record<string, number>;
}

/** Commands the server executes (workspace/executeCommand), offered by its code actions. */
export const Commands = {
  /** Creates a folder a subject file refers to. Argument: the absolute folder path. */
  createFolder: 'yollava.server.createFolder',
} as const;

/** Settings under "yollava." the server reads. */
export interface YollavaSettings {
  modelPath: string;
  executionProvider: 'auto' | 'cpu' | 'webgpu' | 'cuda';
  trainOnSave: boolean;
  negativePools: string[];
}

export const DEFAULT_SETTINGS: YollavaSettings = {
  modelPath: '',
  executionProvider: 'auto',
  trainOnSave: false,
  negativePools: [],
};
