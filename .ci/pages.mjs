// Writes the site's two pages from its index.html (public/index.html, as .ci/build-app copied
// it there):
//
//   signin.html  the page with the sign-in form drawn in it (between `<!-- sign-in form -->`
//                and `<!-- /sign-in form -->`), which the server sends a visitor without a
//                session at / and /signin: the form is there before the app's code;
//   index.html   the page without it, for every other address the app draws.
//
// Both lose what is written for this repository's readers rather than for browsers: HTML
// comments, the inline scripts' comments and spaces (esbuild, pinned beside wasm-opt, minifies
// each; the server hashes the scripts of the page it serves for its Content-Security-Policy,
// and both pages carry the same ones), and the indentation of lines.
//
//   node .ci/pages.mjs <site dir>
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const { transformSync } = createRequire(join(here, 'build-tools', 'package.json'))('esbuild');

const [site] = process.argv.slice(2);
if (!site) {
  console.error('usage: node .ci/pages.mjs <site dir>');
  process.exit(2);
}

const FORM = /[ \t]*<!-- sign-in form -->[\s\S]*?<!-- \/sign-in form -->\n?/;
const source = readFileSync(join(site, 'index.html'), 'utf8');
if (!FORM.test(source) || !source.includes('id="sign-in-shell"')) {
  console.error(`${site}/index.html: no sign-in form between its marks`);
  process.exit(1);
}

const forBrowsers = (page) =>
  page
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/(<script[^>]*>)([\s\S]*?)(<\/script>)/g, (_, open, code, close) =>
      open + transformSync(code, { loader: 'js', minify: true }).code.trim() + close,
    )
    .replace(/\n\s+/g, '\n');

writeFileSync(join(site, 'signin.html'), forBrowsers(source));
writeFileSync(join(site, 'index.html'), forBrowsers(source.replace(FORM, '')));
