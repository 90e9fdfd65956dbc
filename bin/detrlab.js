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
  (code) => {
    process.exitCode = code;
    // After an error nothing is left to do: a worker thread or socket a failed stage left open must not keep
    // the process alive (the timer is unref'd, so a clean exit does not wait for it).
    if (code !== 0) setTimeout(() => process.exit(code), 2000).unref();
  },
  (e) => { console.error(e); process.exitCode = 1; },
);
