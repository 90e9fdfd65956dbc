#!/usr/bin/env node
// The `detrlab` CLI: one subcommand per pipeline stage (see `detrlab --help`).
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'lib', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  console.error('detrlab: dist/ is missing; run `npm run build` (or `npm ci`, which builds) first');
  process.exit(2);
}
require(entry).main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e) => { console.error(e); process.exitCode = 1; },
);
