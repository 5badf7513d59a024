// Layering: core/ is pure TypeScript (no electron, no DOM, no node:*); hosts inject IO.
import tseslint from 'typescript-eslint'
import vue from 'eslint-plugin-vue'

const nodeBuiltins = [
  'fs',
  'path',
  'os',
  'child_process',
  'worker_threads',
  'crypto',
  'net',
  'http',
  'https',
  'url',
  'stream',
  'zlib',
  'util',
  'buffer',
  'process',
  'events',
  'module',
  'readline',
  'v8',
  'vm',
]

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', '.tmp/**', '.gpu/**', 'resources/**', 'training/**'] },
  ...tseslint.configs.recommended,
  // The renderer's single-file components: eslint-plugin-vue's recommended rules, with the layout
  // rules off (Prettier formats), and <script setup lang="ts"> parsed by typescript-eslint.
  ...vue.configs['flat/recommended'],
  { files: ['**/*.vue'], ...vue.configs['no-layout-rules'] },
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'], sourceType: 'module' } },
  },
  {
    files: ['**/*.ts', '**/*.vue'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['core/**/*.ts'],
    languageOptions: {
      globals: {},
    },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'core/ is pure: hosts inject IO (no node: modules).' },
            { group: nodeBuiltins, message: 'core/ is pure: hosts inject IO (no Node built-ins).' },
            { group: ['electron', 'electron/*'], message: 'core/ must not depend on Electron.' },
            { group: ['**/electron/**', '**/renderer/**'], message: 'core/ must not import from the hosts.' },
            { group: ['@itk-wasm/*'], message: 'core/ takes bytes; itk-wasm pipelines run in the hosts (type imports of itk-wasm are fine).' },
            { group: ['vue', 'vue/*', '@kitware/vtk.js', '@kitware/vtk.js/*'], message: 'core/ has no UI.' },
          ],
        },
      ],
      // better-sqlite3 is native Node code: core/db describes a Database by its type only and the
      // host (electron/adapters/db) opens it.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'better-sqlite3',
              message: 'core/ may only type-import better-sqlite3 (import type Database from ...): the host opens the database.',
              allowTypeImports: true,
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'window', message: 'core/ has no DOM.' },
        { name: 'document', message: 'core/ has no DOM.' },
        { name: 'Buffer', message: 'core/ uses Uint8Array, not Node Buffer.' },
        { name: 'process', message: 'core/ does not read the process environment.' },
        { name: 'require', message: 'core/ is ESM.' },
      ],
    },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.vue'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'The renderer is sandboxed: talk to main through the preload API.' },
            { group: ['electron', 'electron/*', '**/electron/**'], message: 'The renderer reaches main only through the preload API.' },
          ],
        },
      ],
    },
  },
  // electron/ by role (electron/README.md): entry points -> app -> adapters -> core.
  {
    files: ['electron/adapters/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/app/*', '**/cli/*', '**/server/*', '**/main/*', '**/workers/*', '**/preload/*'],
              message: 'adapters/ give IO to the application: they never import it or an entry point.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['electron/app/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/cli/*', '**/server/*', '**/main/*', '**/workers/*', '**/preload/*'],
              message: 'app/ is hosted by the entry points: it never imports one.',
            },
          ],
        },
      ],
    },
  },
)
