#!/usr/bin/env node
// `npm run bench -- <name>` → runs dist/bench/<name>.js (compiled from bench/<name>.ts).
const fs = require('node:fs');
const path = require('node:path');
const name = process.argv[2];
const dir = path.join(__dirname, '..', 'dist', 'bench');
const available = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.js') && f !== 'bench_util.js').map((f) => f.slice(0, -3)) : [];
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name> [args]\navailable: ${available.join(', ') || '(none; run npm run build)'}`);
  process.exit(2);
}
process.argv.splice(2, 1);
require(path.join(dir, `${name}.js`));
