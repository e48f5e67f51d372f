// Gives the built front end content-hashed names (so browsers may cache them for good: a new build has new names) and
// precompressed copies (brotli at its highest quality, gzip), then writes the names into Leptos's hash file, which the
// server reads beside its binary. Usage: node hash-and-compress.mjs PKG_DIR HASH_FILE
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const [pkg, hashFile] = process.argv.slice(2);
if (!pkg || !hashFile) {
  console.error('usage: node hash-and-compress.mjs PKG_DIR HASH_FILE');
  process.exit(2);
}
// The previous build's hashed files and compressed copies go; the plain names stay for servers without a hash file.
for (const name of readdirSync(pkg)) {
  if (/^sra\.[0-9a-f]{16}\./.test(name) || /\.(br|gz)$/.test(name)) unlinkSync(`${pkg}/${name}`);
}
const lines = [];
for (const [kind, plain] of [['js', 'sra.js'], ['wasm', 'sra_bg.wasm'], ['css', 'sra.css']]) {
  const data = readFileSync(`${pkg}/${plain}`);
  const hash = createHash('sha256').update(data).digest('hex').slice(0, 16);
  const name = `${pkg}/sra.${hash}.${kind}`;
  writeFileSync(name, data);
  const brotli = brotliCompressSync(data, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
  });
  writeFileSync(`${name}.br`, brotli);
  writeFileSync(`${name}.gz`, gzipSync(data, { level: 9 }));
  console.log(`${kind}: sra.${hash}.${kind} ${data.length} bytes, brotli ${brotli.length}`);
  lines.push(`${kind}: ${hash}`);
}
writeFileSync(hashFile, `${lines.join('\n')}\n`);
