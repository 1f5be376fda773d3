#!/usr/bin/env node
// Reference tokenization with the native Hugging Face tokenizers binding (@anush008/tokenizers, Rust tokenizers 0.22).
// Usage: node tokenize.js TOKENIZER_JSON < in.jsonl > out.jsonl
//   {"text": "..."}  -> {"ids": [...], "offsets": [[s,e],...], "ids_special": [...], "offsets_special": [...],
//                        "decode": "...", "decode_special": "...", "decode_special_skip": "..."}
//                       (ids/offsets: add_special_tokens false; *_special: true; offsets in Unicode code points)
//   {"ids": [...]}   -> {"text": "...", "text_skip": "..."}  (decode with skip_special_tokens false / true)
//   {"info": true}   -> {"vocab_size": N}  (get_vocab_size with added tokens)
//   {"text": "...", "pair": "..."} -> {"ids", "offsets", "type_ids", "ids_special", "offsets_special", "type_ids_special"}
'use strict';
const fs = require('fs');
const { Tokenizer } = require('@anush008/tokenizers');

async function main() {
  const file = process.argv[2];
  if (!file) { console.error('usage: node tokenize.js TOKENIZER_JSON < in.jsonl'); process.exit(2); }
  const tok = Tokenizer.fromFile(file);
  const lines = fs.readFileSync(0, 'utf8').split('\n').filter(l => l.length > 0);
  const out = [];
  for (const line of lines) {
    const rec = JSON.parse(line);
    if (rec.ids !== undefined) {
      out.push(JSON.stringify({ text: await tok.decode(rec.ids, false), text_skip: await tok.decode(rec.ids, true) }));
      continue;
    }
    if (rec.info) {
      out.push(JSON.stringify({ vocab_size: tok.getVocabSize(true) }));
      continue;
    }
    if (rec.pair !== undefined) {
      const p = await tok.encode(rec.text, rec.pair, { addSpecialTokens: false });
      const ps = await tok.encode(rec.text, rec.pair, { addSpecialTokens: true });
      out.push(JSON.stringify({
        ids: p.getIds(), offsets: p.getOffsets(), type_ids: p.getTypeIds(),
        ids_special: ps.getIds(), offsets_special: ps.getOffsets(), type_ids_special: ps.getTypeIds(),
      }));
      continue;
    }
    const plain = await tok.encode(rec.text, null, { addSpecialTokens: false });
    const special = await tok.encode(rec.text, null, { addSpecialTokens: true });
    const ids = plain.getIds();
    const idsSpecial = special.getIds();
    out.push(JSON.stringify({
      ids,
      offsets: plain.getOffsets(),
      ids_special: idsSpecial,
      offsets_special: special.getOffsets(),
      decode: await tok.decode(ids, false),
      decode_special: await tok.decode(idsSpecial, false),
      decode_special_skip: await tok.decode(idsSpecial, true),
    }));
  }
  process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
}

main().catch(e => { console.error(e && e.stack || String(e)); process.exit(1); });
