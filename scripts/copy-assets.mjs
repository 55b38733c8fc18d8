// Copies the pinned browser assets from node_modules into static/vendor/
// (git-ignored). Run by `make assets`, the Dockerfile and CI.
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "static", "vendor");

const files = [
  ["bootstrap/dist/css/bootstrap.min.css", "bootstrap.min.css"],
  ["bootstrap/dist/js/bootstrap.bundle.min.js", "bootstrap.bundle.min.js"],
  ["htmx.org/dist/htmx.min.js", "htmx.min.js"],
  ["hls.js/dist/hls.min.js", "hls.min.js"],
];

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const [from, to] of files) {
  cpSync(join(root, "node_modules", from), join(out, to));
}
console.log(`copied ${files.length} vendor assets into static/vendor/`);
