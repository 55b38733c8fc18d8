// Copies the pinned browser assets from node_modules into static/vendor/
// (git-ignored), then compresses every text asset under static/ once, at
// the highest levels (brotli 11, gzip 9), into `.br` and `.gz` files beside
// it (git-ignored): the server sends those as they are (src/web/assets.rs).
// Run by `make assets`, the Dockerfile and CI.
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const staticDir = join(root, "static");
const out = join(staticDir, "vendor");

const files = [
  ["bootstrap/dist/css/bootstrap.min.css", "bootstrap.min.css"],
  ["bootstrap/dist/js/bootstrap.bundle.min.js", "bootstrap.bundle.min.js"],
  ["htmx.org/dist/htmx.min.js", "htmx.min.js"],
  ["hls.js/dist/hls.min.js", "hls.min.js"],
  ["swagger-ui-dist/swagger-ui.css", "swagger-ui.css"],
  ["swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui-bundle.js"],
];

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const [from, to] of files) {
  cpSync(join(root, "node_modules", from), join(out, to));
}
console.log(`copied ${files.length} vendor assets into static/vendor/`);

const compressible = new Set([".css", ".js", ".svg", ".json", ".txt", ".html", ".map", ".vtt"]);
let written = 0;
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      walk(path);
      continue;
    }
    for (const suffix of [".br", ".gz"]) {
      if (name.endsWith(suffix)) rmSync(path);
    }
    if (!compressible.has(extname(name))) continue;
    const raw = readFileSync(path);
    const br = brotliCompressSync(raw, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 11,
        [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
      },
    });
    const gz = gzipSync(raw, { level: 9 });
    if (br.length < raw.length) writeFileSync(`${path}.br`, br), written++;
    if (gz.length < raw.length) writeFileSync(`${path}.gz`, gz), written++;
  }
};
walk(staticDir);
console.log(`wrote ${written} precompressed variants (.br, .gz) under static/`);
