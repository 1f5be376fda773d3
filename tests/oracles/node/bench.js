#!/usr/bin/env node
// Peer benchmark for `SharpTune.Bench tokenizer`: the native HF binding on the same texts.
// Usage: RAYON_NUM_THREADS=1 UV_THREADPOOL_SIZE=1 node bench.js TOKENIZER_JSON TEXTS_JSONL
// Prints one JSON line: load_ms, tokens, percall_s (await encode per text), batch_s (encodeBatch, one rayon thread).
'use strict';
const fs = require('fs');
const { Tokenizer } = require('@anush008/tokenizers');

async function main() {
  const [file, textsFile] = process.argv.slice(2);
  let t0 = process.hrtime.bigint();
  const tok = Tokenizer.fromFile(file);
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const texts = fs.readFileSync(textsFile, 'utf8').split('\n').filter(l => l.length > 0).map(l => JSON.parse(l).text);
  // Warm-up on a slice, then the timed passes.
  for (const t of texts.slice(0, 200)) await tok.encode(t, null, { addSpecialTokens: false });
  t0 = process.hrtime.bigint();
  let tokens = 0;
  for (const t of texts) tokens += (await tok.encode(t, null, { addSpecialTokens: false })).getLength();
  const perCall = Number(process.hrtime.bigint() - t0) / 1e9;
  t0 = process.hrtime.bigint();
  const encs = await tok.encodeBatch(texts, { addSpecialTokens: false });
  const batch = Number(process.hrtime.bigint() - t0) / 1e9;
  let batchTokens = 0;
  for (const e of encs) batchTokens += e.getLength();
  process.stdout.write(JSON.stringify({ load_ms: loadMs, tokens, batch_tokens: batchTokens, percall_s: perCall, batch_s: batch }) + '\n');
}

main().catch(e => { console.error(e && e.stack || String(e)); process.exit(1); });
