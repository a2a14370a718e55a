import * as fs from 'node:fs';
import * as path from 'node:path';
import { GALLERY_DIR, GALLERY_PAGES, galleryImage } from './fixtures/gallery';

/**
 * Playwright's global teardown: writes `docs/gallery/README.md`, the page the README links,
 * with each main page the run photographed side by side at desktop and phone size.
 */
export default function writeGalleryIndex() {
  const sizes = ['desktop', 'phone'];
  const rows = GALLERY_PAGES.filter(({ name }) =>
    sizes.some((size) => fs.existsSync(galleryImage(size, name))),
  ).map(({ name, title }) => {
    const cells = sizes
      .map((size) =>
        fs.existsSync(galleryImage(size, name))
          ? `<td valign="top"><img src="${size}/${name}.jpg" alt="${title}, ${size}" width="${size === 'phone' ? 260 : 560}"></td>`
          : '<td></td>',
      )
      .join('');
    return `<tr><th colspan="2" align="left">${title}</th></tr>\n<tr>${cells}</tr>`;
  });
  if (rows.length === 0) return;
  const text = [
    '# Gallery',
    '',
    'The console\'s main pages at desktop size (1280×800) and on a phone (390×844), written by the',
    'Playwright run (`bash .ci/gallery` regenerates them; `bash .ci/test` does too). Each picture is',
    'the page as a browser test left it, with the made-up data of that test.',
    '',
    '<table>',
    '<tr><th>Desktop</th><th>Phone</th></tr>',
    ...rows,
    '</table>',
    '',
  ].join('\n');
  fs.mkdirSync(GALLERY_DIR, { recursive: true });
  fs.writeFileSync(path.join(GALLERY_DIR, 'README.md'), text);
}
