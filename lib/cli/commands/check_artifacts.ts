import { defineCommand } from '../command.js';
import { str } from '../../params/schema.js';
import { checkArtifacts } from '../../pipeline/artifacts.js';

export const checkArtifactsCommand = defineCommand({
  name: 'check-artifacts',
  summary:
    'verify that a pipeline run left every artifact of docs/guide.md "Artifacts", each well-formed (exit 1 if not)',
  schema: {
    run: str('runs/detr_demo', 'detection run folder'),
    report: str('runs/demo/report.html', 'the HTML report'),
    crops: str('data/crops', 'crop dataset'),
    synth: str('data/synth', 'synthetic images'),
    ablation: str('runs/ablation', 'ablation output folder'),
  },
  async run(p) {
    const res = await checkArtifacts(p);
    for (const r of res) console.log(`${r.ok ? 'ok  ' : 'FAIL'}  ${r.artifact}: ${r.detail}`);
    const bad = res.filter((r) => !r.ok).length;
    console.log(
      bad ? `${bad} artifact(s) missing or malformed` : `all ${res.length} artifacts present and well-formed`,
    );
    return bad ? 1 : 0;
  },
});
