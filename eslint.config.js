// Lint rules for PACE. Type-aware rules catch the async mistakes that matter in a daemon
// (a promise nobody awaits is an error nobody sees).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'eslint.config.js', 'bin/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // Tool configs that must be CommonJS (dependency-cruiser's rule file).
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } } },
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's describe/it/before/after return promises the runner itself tracks.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
      // On Node 20 a signal made by AbortSignal.any stays referenced by its sources for their
      // whole life: combined with a long-lived one (a mesh's lifetime) it leaks per call.
      'no-restricted-properties': [
        'error',
        { object: 'AbortSignal', property: 'any', message: 'leaks on Node 20 when a source is long-lived; use linkedSignal (src/util/linked-signal.ts)' },
      ],
    },
  },
);
