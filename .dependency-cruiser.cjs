/**
 * Layering rules for lib/ (docs/architecture.md), checked by `npm run depcheck` (.ci/run).
 * Type-only imports count too (tsPreCompilationDeps), so a rule cannot be dodged with `import type`.
 */
const COCO_EVALUATOR = '^lib/cocoeval/';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles hide the layering; move the shared type or function into its own file.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'eval-not-on-train',
      severity: 'error',
      comment:
        'Evaluation predicts with lib/predict; it must not depend on training (train uses eval, not the reverse).',
      from: { path: '^lib/(eval|predict|cocoeval)/' },
      to: { path: '^lib/train/' },
    },
    {
      name: 'predict-not-on-eval',
      severity: 'error',
      comment: 'The predictor (model + worker threads) sits below both evaluation and training.',
      from: { path: '^lib/predict/' },
      to: { path: '^lib/(eval|cocoeval|analysis|classify|pipeline|cli|notebook)/' },
    },
    {
      name: 'coco-evaluator-pure',
      severity: 'error',
      comment: 'The pycocotools port works on COCO json alone: no model, tensor, data-loading, stage or drawing code.',
      from: { path: COCO_EVALUATOR },
      to: {
        pathNot: [
          COCO_EVALUATOR,
          '^lib/coco/(types|json_scan)\\.ts$',
          '^lib/params/user_error\\.ts$',
          '^lib/io/',
          '^lib/viz/progress\\.ts$',
        ],
        dependencyTypesNot: ['core'],
      },
    },
    {
      name: 'train-uses-eval-narrowly',
      severity: 'error',
      comment:
        'Training calls evaluation through single functions (eval/inference.ts, eval/results_io.ts), not the barrel.',
      from: { path: '^lib/train/' },
      to: { path: '^lib/(eval|cocoeval)/index\\.ts$' },
    },
    {
      name: 'lib-not-on-tests',
      severity: 'error',
      comment: 'Library code never imports test or bench code.',
      from: { path: '^lib/' },
      to: { path: '^(tests|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    exclude: { path: '^(dist|node_modules)/' },
  },
};
