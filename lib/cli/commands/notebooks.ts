import * as path from 'node:path';
import { defineCommand } from '../command.js';
import { bool, int, oneOf, str, strList } from '../../params/schema.js';
import { runNotebooks } from '../../notebook/runner.js';
import { parseParamAssignment } from '../../notebook/parameters.js';
import { PROFILE_NAMES, ProfileName } from '../../pipeline/profiles.js';

export const notebooksRunCommand = defineCommand({
  name: 'notebooks run',
  summary: 'execute the numbered notebooks headless (papermill-style parameters) and write an HTML report',
  schema: {
    profile: oneOf<ProfileName>(PROFILE_NAMES, 'demo', 'parameter profile'),
    only: strList([], 'notebook prefixes to run, e.g. 03,04 (default: all)'),
    param: {
      type: { kind: 'list', of: 'string', split: false },
      default: [] as string[],
      help: 'override a parameter: -p key=value (repeatable; value parsed as JSON when possible)',
      alias: 'p',
    },
    notebooks: str('notebooks', 'folder with the NN_name.ipynb notebooks'),
    out: str('', 'output folder (default runs/<profile>)'),
    cellTimeout: int(0, 'seconds a single cell may run (0 = no limit)', { min: 0 }),
    force: bool(false, 're-run stages even when their inputs, parameters, code and outputs are unchanged'),
  },
  usage:
    'Examples:\n  detrlab notebooks run                          # the demo pipeline, report in runs/demo/report.html\n  detrlab notebooks run --only 03,04 -p epochs=2\n  detrlab notebooks run --profile coco',
  async run(p) {
    const parameters = Object.fromEntries(p.param.map(parseParamAssignment));
    const res = await runNotebooks({
      profile: p.profile,
      only: p.only,
      parameters,
      notebooksDir: p.notebooks,
      outDir: p.out || path.join('runs', p.profile),
      cellTimeoutMs: p.cellTimeout ? p.cellTimeout * 1000 : undefined,
      force: p.force,
    });
    if (!res.ok) {
      process.stderr.write(`detrlab notebooks run: ${res.failed?.notebook} failed at ${res.failed?.message}\n`);
      return 1;
    }
    return 0;
  },
});
