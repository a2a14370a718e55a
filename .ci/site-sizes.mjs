// Precompresses the built site and checks the first-load budget.
//
//   node .ci/site-sizes.mjs <site dir> <brotli budget in KB>
//
// Writes `<file>.br` (brotli, quality 11) and `<file>.gz` (gzip -9) beside every compressible
// file of the site, which the server sends to browsers that accept them; prints every file a
// first visit loads raw, gzipped and brotli-compressed; and exits 1 when the brotli total passes
// the budget (1 KB = 1000 bytes). Node's zlib does both codecs, so nothing extra is installed.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, extname } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const [site, budgetKb] = process.argv.slice(2);
if (!site || !Number.isFinite(Number(budgetKb))) {
  console.error('usage: node .ci/site-sizes.mjs <site dir> <brotli budget in KB>');
  process.exit(2);
}
const budget = Number(budgetKb) * 1000;

// What a first visit fetches: the page (signin.html: the first visit has no session), its
// stylesheet and icon, and from the build's folder
// (pkg/<build>/) the JS glue, the loader of the lazily loaded flows (app.js imports it) and the
// main module. The flows' own chunks (split_*.wasm, chunk_*.wasm) come later, when a page of
// theirs is first shown.
const builds = readdirSync(join(site, 'pkg'));
if (builds.length !== 1) {
  console.error(`expected one build folder in ${site}/pkg, found: ${builds.join(', ')}`);
  process.exit(1);
}
const pkg = `pkg/${builds[0]}`;
const FIRST_LOAD = ['signin.html', 'main.css', 'favicon.svg', ...['app.js', '__wasm_split.js', 'app_bg.wasm'].map((f) => `${pkg}/${f}`)];
const COMPRESSIBLE = new Set(['.html', '.css', '.js', '.mjs', '.wasm', '.svg', '.json', '.txt']);
const TEXT = new Set(['.html', '.css', '.js', '.mjs', '.svg', '.json', '.txt']);

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

const sizes = new Map();
for (const path of files(site)) {
  const ext = extname(path);
  if (!COMPRESSIBLE.has(ext)) continue;
  const raw = readFileSync(path);
  const br = brotliCompressSync(raw, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_MODE]: TEXT.has(ext) ? constants.BROTLI_MODE_TEXT : constants.BROTLI_MODE_GENERIC,
      [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  });
  const gz = gzipSync(raw, { level: 9 });
  writeFileSync(`${path}.br`, br);
  writeFileSync(`${path}.gz`, gz);
  sizes.set(relative(site, path), { raw: raw.length, gzip: gz.length, brotli: br.length });
}

const row = (name, s) =>
  console.log(`${name.padEnd(40)} ${String(s.raw).padStart(10)} ${String(s.gzip).padStart(10)} ${String(s.brotli).padStart(10)}`);
console.log(`\n${'first-load file'.padEnd(40)} ${'raw'.padStart(10)} ${'gzip -9'.padStart(10)} ${'brotli 11'.padStart(10)}`);
const total = { raw: 0, gzip: 0, brotli: 0 };
for (const name of FIRST_LOAD) {
  const s = sizes.get(name);
  if (!s) {
    console.error(`${name} is missing from ${site}`);
    process.exit(1);
  }
  row(name, s);
  for (const k of Object.keys(total)) total[k] += s[k];
}
row('total', total);

const later = { raw: 0, gzip: 0, brotli: 0 };
let chunks = 0;
for (const [name, s] of sizes) {
  if (!name.startsWith(`${pkg}/`) || !name.endsWith('.wasm') || FIRST_LOAD.includes(name)) continue;
  chunks += 1;
  for (const k of Object.keys(later)) later[k] += s[k];
}
row(`later: ${chunks} page chunks`, later);

const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
if (total.brotli > budget) {
  console.error(
    `\nSIZE BUDGET EXCEEDED: the first load is ${kb(total.brotli)} brotli-compressed, over the budget of ${kb(budget)} ` +
      `(SIZE_BUDGET_KB in .ci/build-app).`,
  );
  process.exit(1);
}
console.log(`\nfirst load ${kb(total.brotli)} brotli-compressed, within the budget of ${kb(budget)}`);
