// Bundles the chat page (web/) into dist/web with esbuild: run by `npm run build`, and by the tests' global setup so
// they serve the current sources. No type check here: `npm run build` runs `tsc -p web` first.
const { build } = require('esbuild');
const { join } = require('node:path');

build({
  entryPoints: ['app.ts', 'index.html', 'style.css'].map((file) => join(__dirname, file)),
  bundle: true,
  outdir: join(__dirname, '..', 'dist', 'web'),
  loader: { '.html': 'copy' },
  target: 'es2022',
  logLevel: 'warning',
}).catch(() => process.exit(1));
