// Builds the browser console into OUTDIR (default: dist):
//   OUTDIR/index.html, OUTDIR/assets/app.js + app.css (+ lazily loaded chunks,
//   e.g. noVNC's), all from src/ and node_modules/ with no network access.
// Usage: node build.mjs OUTDIR [DEPFILE STAMP]
// meson runs it (web/meson.build) and passes DEPFILE, a Makefile-style list
// of every input esbuild read, so ninja rebuilds exactly when one changes,
// and STAMP, the file ninja knows as the output.
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.resolve(process.argv[2] || path.join(here, 'dist'));
const depfile = process.argv[3] ? path.resolve(process.argv[3]) : null;
const stamp = process.argv[4] ? path.resolve(process.argv[4]) : null;
const dev = process.env.VIRTD_WEB_DEV === '1';

const tmp = outdir + '.tmp';
fs.rmSync(tmp, { recursive: true, force: true });
fs.mkdirSync(path.join(tmp, 'assets'), { recursive: true });

const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: { app: 'src/main.js' },
  bundle: true,
  splitting: true, // noVNC and uPlot load when their page opens
  format: 'esm',
  target: ['chrome100', 'firefox100', 'safari15'],
  outdir: path.join(tmp, 'assets'),
  chunkNames: 'chunk-[hash]',
  assetNames: '[name]-[hash]',
  loader: { '.woff': 'file', '.woff2': 'file', '.svg': 'file', '.png': 'file' },
  minify: !dev,
  sourcemap: dev ? 'inline' : false,
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
});

// index.html, with the chunks app.js imports preloaded: the browser fetches
// them with app.js instead of after it (one round trip less).
const appOut = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint === 'src/main.js');
const preload = appOut[1].imports.filter((i) => i.kind === 'import-statement')
  .map((i) => `  <link rel="modulepreload" href="/assets/${path.basename(i.path)}">`).join('\n');
const html = fs.readFileSync(path.join(here, 'src/index.html'), 'utf8')
  .replace('  <!-- modulepreload -->', preload);
fs.writeFileSync(path.join(tmp, 'index.html'), html);
fs.copyFileSync(path.join(here, 'src/favicon.svg'), path.join(tmp, 'assets', 'favicon.svg'));

// Swap the finished tree in whole: a daemon serving OUTDIR never sees half a build.
fs.rmSync(outdir, { recursive: true, force: true });
fs.renameSync(tmp, outdir);

if (depfile) {
  const inputs = Object.keys(result.metafile.inputs).map((p) => path.resolve(here, p));
  inputs.push(path.join(here, 'src/index.html'), path.join(here, 'src/favicon.svg'),
              fileURLToPath(import.meta.url));
  const esc = (p) => p.replace(/ /g, '\\ ');
  fs.writeFileSync(depfile, `${esc(stamp || outdir)}: ${inputs.map(esc).join(' \\\n  ')}\n`);
}
if (stamp) fs.writeFileSync(stamp, `${new Date().toISOString()}\n`);
