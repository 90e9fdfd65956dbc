// ESLint (flat config) with typescript-eslint's recommended rules, without type-checked rules (fast). `npm run lint`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'runs/**', 'models/**', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      // tsc's noUnusedLocals/noUnusedParameters already enforce this; `_`-prefixed names are intentional.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // OpenCV's literal for tan(22.5°), kept digit for digit (imgproc/src/canny.cpp); onnxruntime-node is loaded
    // lazily so that commands without ONNX start fast.
    files: ['lib/synth/canny.ts'],
    rules: { 'no-loss-of-precision': 'off' },
  },
  { files: ['lib/synth/onnx_session.ts'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
