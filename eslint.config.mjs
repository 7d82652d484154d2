// Flat config: typescript-eslint over the whole workspace (type-aware for TypeScript sources).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import nx from '@nx/eslint-plugin';

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '.nx/**', 'tools/.venv/**', '**/coverage/**', 'results/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.mjs', 'tools/*/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowNullish: true }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      // tfjs ops return generic Tensor<R>; asserting the rank (as tf.Tensor2D) is the readable idiom
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // package boundaries (tags in each package.json "nx" field): apps never import apps, core packages
    // never import method packages, method packages import only core ones. Tests and vitest configs may
    // also reach the workspace's tools/test-support and vitest.shared.ts by relative path.
    files: ['**/src/**/*.ts'],
    ignores: ['**/*.test.ts', '**/test-support/**'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': ['error', {
        allow: [],
        enforceBuildableLibDependency: false,
        depConstraints: [
          { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:support', 'type:method', 'type:core'] },
          { sourceTag: 'type:support', onlyDependOnLibsWithTags: ['type:method', 'type:core'] },
          { sourceTag: 'type:method', onlyDependOnLibsWithTags: ['type:core'] },
          { sourceTag: 'type:core', onlyDependOnLibsWithTags: ['type:core'] },
        ],
      }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
