// Lint rules: typescript-eslint's recommended set, plus the project's layering rule (the engine is a library).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const EDITOR = ['vscode', 'vscode-languageserver*', 'vscode-languageclient*'];
const ROOMS = [
  ['graph', 'io', 'util'],
  ['runtime'],
  ['models'],
  ['generate'],
  ['subject'],
  ['personalize'],
  ['toyworld', 'checks'],
  ['tasks'],
];

function engineLayers() {
  return ROOMS.map((level, i) => {
    const above = ROOMS.slice(i + 1).flat();
    return {
      files: level.map((room) => `server/src/engine/${room}/**/*.ts`),
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              { group: EDITOR, message: 'the engine is a library: no editor or LSP modules in it' },
              ...above.map((room) => ({
                group: [`**/${room}/*`, `**/${room}`],
                message: `engine/${level.join('|')} sits below engine/${room}: move the shared piece down, or the caller up (docs/architecture.md)`,
              })),
            ],
          },
        ],
      },
    };
  });
}

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'test/fixtures/**', 'samples/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: { ...globals.node } } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  // The engine's rooms, bottom to top (docs/architecture.md): a room may import the rooms below it, never
  // one above, and no room imports vscode or LSP modules. Each block forbids the rooms above its own.
  ...engineLayers(),
  // The server's services (validation, jobs, workspace) sit below its LSP handlers: handlers call services,
  // never the other way round.
  {
    files: [
      'server/src/validation.ts',
      'server/src/context.ts',
      'server/src/jobs/**/*.ts',
      'server/src/workspace/**/*.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/handlers/*', '**/handlers'],
              message:
                'services sit below handlers/: move the shared piece into the engine or a service (docs/architecture.md)',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['server/src/**/*.ts'],
    ignores: ['server/src/cli/**'],
    rules: { 'no-console': ['error', { allow: ['error', 'warn'] }] },
  },
);
