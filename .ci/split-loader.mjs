// Shortens the chunk loader wasm-split-cli writes (`__wasm_split.js`, part of the first load):
// it spells the same fetch-and-instantiate function out once for each of the module's ~130
// chunks, differing only in the chunk's file name. One function taking that name does the
// same; the first load is 0.2 KB lighter (brotli). The loader must be the one this expects, a
// function per chunk and no other: anything else (another wasm-split-cli) fails the build
// rather than ship a loader half rewritten.
//
//   node .ci/split-loader.mjs <pkg dir>
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [pkg] = process.argv.slice(2);
if (!pkg) {
  console.error('usage: node .ci/split-loader.mjs <pkg dir>');
  process.exit(2);
}

const path = join(pkg, '__wasm_split.js');
const loader = readFileSync(path, 'utf8');
const PER_CHUNK =
  /makeLoad\(\(\) => \{\n {4}const src = fetch\(new URL\("(\.\/[\w.]+\.wasm)", import\.meta\.url\)\);\n {4}src\.catch\(\(\) => \{\}\);\n {4}return async \(imports\) => \(WebAssembly\.instantiateStreaming\(src, imports\)\);\n\}\n, /g;

let rewritten = 0;
const shortened = loader.replace(PER_CHUNK, (_, file) => {
  rewritten += 1;
  return `loadChunk("${file}", `;
});
const chunks = readdirSync(pkg).filter((name) => name.endsWith('.wasm') && name !== 'app.wasm').length;
if (rewritten !== chunks || shortened.includes('fetch(new URL("./')) {
  console.error(`${path}: ${rewritten} chunk loaders of the expected shape for ${chunks} chunks`);
  process.exit(1);
}

writeFileSync(
  path,
  `${shortened}
function loadChunk(file, deps) {
    return makeLoad(() => {
        const src = fetch(new URL(file, import.meta.url));
        src.catch(() => {});
        return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
    }, deps);
}
`,
);
