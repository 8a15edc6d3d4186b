// After `trunk build`: asks the browser to download the bundled model's manifest and ONNX file
// as soon as it reads dist/index.html (<link rel="preload" as="fetch">), in parallel with the
// page's own code instead of after it has started (issue 17, cold start). The file name comes
// from dist/model/manifest.json (`onnx_file`). The page's fetch of the same URLs then takes the
// preloaded response.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dist = process.argv[2] || 'dist';
const file = join(dist, 'index.html');
const manifest = JSON.parse(readFileSync(join(dist, 'model', 'manifest.json'), 'utf8'));
if (typeof manifest.onnx_file !== 'string' || !/^[\w.-]+$/.test(manifest.onnx_file)) {
  throw new Error(`dist/model/manifest.json: onnx_file ${JSON.stringify(manifest.onnx_file)} is not a plain file name`);
}
const links = ['model/manifest.json', `model/${manifest.onnx_file}`]
  .map((href) => `<link rel="preload" href="./${href}" as="fetch" crossorigin="anonymous" data-model-preload>`)
  .join('\n  ');
let html = readFileSync(file, 'utf8').replace(/\s*<link [^>]*data-model-preload>/g, '');
if (!/<\/title>/i.test(html)) throw new Error(`${file}: no </title> to put the preload links after`);
html = html.replace(/(<\/title>)/i, `$1\n  ${links}`);
writeFileSync(file, html);
console.log(`preload-model: model/manifest.json and model/${manifest.onnx_file} preloaded`);
