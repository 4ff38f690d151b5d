/**
 * @module store/ctl/jsonItemStream — the values of a big JSON manifest one at a time, in bounded memory: the
 * elements of a top-level array, or the `items` of a `{"kind": "List", ..., "items": [...]}` whose `kind` comes
 * before `items` (what kubectl and podnet write). Anything else (one object, a List with `kind` after `items`)
 * is yielded whole after the file is read. A syntax error throws JsonStreamError; what came before it has been
 * yielded already.
 */

export class JsonStreamError extends Error {}

type Mode = 'start' | 'array' | 'object' | 'list' | 'scalar' | 'done';

export async function* jsonItems(chunks: AsyncIterable<string>): AsyncGenerator<unknown> {
  let buf = '';
  let base = 0; // file offset of buf[0], for messages
  let i = 0;
  let mode: Mode = 'start';
  let depth = 0;
  let inStr = false;
  let esc = false;
  let strStart = -1;
  let key: string | undefined;
  let lastString: string | undefined;
  let expectValue = false;
  let kind: unknown;
  let itemStart = -1;
  /** Depth at which the streamed items live: 1 for a top-level array, 2 for a List's items. */
  let itemDepth = -1;
  let topStart = -1;

  const parse = (text: string, at: number): unknown => {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new JsonStreamError(`${(err as Error).message} (in the value at byte ${at})`);
    }
  };

  for await (const chunk of chunks) {
    // Keep only what is still needed: the current item (streaming) or the whole top value (not streaming).
    const keep = mode === 'array' || mode === 'list' ? (itemStart >= 0 ? itemStart : i) : topStart >= 0 ? topStart : i;
    buf = buf.slice(keep) + chunk;
    base += keep;
    i -= keep;
    if (itemStart >= 0) itemStart -= keep;
    if (topStart >= 0) topStart -= keep;
    if (strStart >= 0) strStart -= keep;
    const out: unknown[] = [];
    for (; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (inStr) {
        if (esc) esc = false;
        else if (c === 92) esc = true;
        else if (c === 34) {
          inStr = false;
          if (depth === 1 && mode !== 'array' && strStart >= 0) {
            const s = parse(buf.slice(strStart, i + 1), base + strStart) as string;
            if (expectValue) { if (key === 'kind') kind = s; } else lastString = s;
          }
          strStart = -1;
        }
        continue;
      }
      if (c === 32 || c === 10 || c === 13 || c === 9) continue;
      if (mode === 'done') throw new JsonStreamError(`unexpected data after the JSON value at byte ${base + i}`);
      if (mode === 'scalar') continue;
      if (mode === 'start') {
        topStart = i;
        mode = c === 91 ? 'array' : c === 123 ? 'object' : 'scalar';
        if (mode === 'array') itemDepth = 1;
      }
      const atItemLevel = itemDepth > 0 && depth === itemDepth;
      if (atItemLevel && itemStart < 0 && c !== 93 && c !== 44) itemStart = i;
      if (c === 34) {
        inStr = true;
        strStart = i;
      } else if (c === 123 || c === 91) {
        if (mode === 'object' && depth === 1 && c === 91 && expectValue && key === 'items' && kind === 'List') {
          mode = 'list';
          itemDepth = 2;
        }
        depth += 1;
      } else if (c === 125 || c === 93) {
        if (atItemLevel && itemStart >= 0) {
          out.push(parse(buf.slice(itemStart, i), base + itemStart));
          itemStart = -1;
        }
        if (atItemLevel) itemDepth = -1; // the streamed array is closed
        depth -= 1;
        if (depth < 0) throw new JsonStreamError(`unexpected "${String.fromCharCode(c)}" at byte ${base + i}`);
        if (depth === 0 && mode === 'object') out.push(parse(buf.slice(topStart, i + 1), base + topStart));
        if (depth === 0) mode = 'done';
      } else if (c === 44) {
        if (atItemLevel && itemStart >= 0) {
          out.push(parse(buf.slice(itemStart, i), base + itemStart));
          itemStart = -1;
        }
        if (depth === 1) expectValue = false;
      } else if (c === 58 && depth === 1) {
        expectValue = true;
        key = lastString;
      }
    }
    yield* out;
  }
  if (inStr || depth !== 0) throw new JsonStreamError('unexpected end of JSON input');
  if (mode === 'scalar') yield parse(buf.slice(topStart), base + topStart); // not a manifest: validation says so
}
