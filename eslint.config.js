import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  // src/gpt/simd/assembly is AssemblyScript (decorators on functions, v128 types): its own compiler
  // checks it (npm run build:simd; tests/unit/simd.test.ts rebuilds it).
  {
    ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'out/**', '.dev/**', '.pretrain/**', '.gl/**', '**/*.py', 'src/gpt/simd/assembly/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
);
