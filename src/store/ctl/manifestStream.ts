/**
 * @module store/ctl/manifestStream — `apply -f` input read as a stream, so a 20,000-object file is applied in
 * bounded memory: YAML is split at `---` lines and each document parsed alone; JSON arrays and
 * `kind: List` files are cut into items (jsonItemStream.ts). A YAML `kind: List` is one document and is parsed
 * whole. Problems are reported as they are met (file, document, field); a syntax error ends that file (what
 * came before it is applied, as kubectl does with the objects it decoded before the error).
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import YAML from 'yaml';
import { formatProblem, validateDocuments, type AnyObject, type ParsedManifests } from '../validate.ts';
import { jsonItems } from './jsonItemStream.ts';
import type { CtlIO } from './ctlIO.ts';

export type ManifestItem = { object: AnyObject } | { problem: string };

/** The objects (and problem lines, `error: ...`) of FILE, DIR (its *.yaml|yml|json, sorted) or `-`. */
export async function* manifestStream(arg: string, io: CtlIO): AsyncGenerator<ManifestItem> {
  if (arg === '-') {
    const text = await io.readStdin();
    const json = /^\s*[[{]/.test(text) ? await collectJson(text, '<stdin>') : undefined;
    yield* fromParsed(json && !json.syntaxError ? json : yamlText(text, '<stdin>'));
    return;
  }
  const st = await stat(arg).catch(() => undefined);
  if (!st) { yield { problem: `error: the path "${arg}" does not exist` }; return; }
  const files = st.isDirectory() ? (await readdir(arg)).filter((f) => /\.(ya?ml|json)$/.test(f)).sort().map((f) => join(arg, f)) : [arg];
  for (const f of files) yield* f.endsWith('.json') ? jsonFile(f) : yamlFile(f);
}

function* fromParsed(p: ParsedManifests): Generator<ManifestItem> {
  if (p.syntaxError) yield { problem: `error: ${p.syntaxError}` };
  for (const problem of p.problems) yield { problem: `error: ${formatProblem(problem)}` };
  for (const { object } of p.objects) yield { object };
}

async function collectJson(text: string, name: string): Promise<ParsedManifests> {
  const raws: unknown[] = [];
  try {
    for await (const v of jsonItems((async function* () { yield text; })())) raws.push(v);
  } catch (err) {
    return { ...validateDocuments(raws, name), syntaxError: `${name}: cannot parse JSON: ${(err as Error).message}` };
  }
  return validateDocuments(raws, name);
}

async function* jsonFile(path: string): AsyncGenerator<ManifestItem> {
  let count = 0;
  try {
    for await (const raw of jsonItems(createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 }))) {
      const p = validateDocuments([raw], path, count);
      count += documentsIn(p);
      yield* fromParsed(p);
    }
  } catch (err) {
    yield { problem: `error: ${path}: cannot parse JSON: ${(err as Error).message}` };
  }
}

/** One YAML document's text (from its `---` line) and the line it starts on. */
interface YamlDoc { text: string; firstLine: number }

async function* yamlDocs(lines: AsyncIterable<string>): AsyncGenerator<YamlDoc> {
  let cur: string[] = [];
  let first = 1;
  let n = 0;
  for await (const line of lines) {
    n += 1;
    if (/^---(\s|$)/.test(line) && cur.length) {
      yield { text: cur.join('\n'), firstLine: first };
      cur = [];
      first = n;
    }
    cur.push(line);
  }
  if (cur.length) yield { text: cur.join('\n'), firstLine: first };
}

async function* yamlFile(path: string): AsyncGenerator<ManifestItem> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  yield* yamlItems(yamlDocs(lines), path);
}

function yamlText(text: string, name: string): ParsedManifests {
  // stdin is read whole anyway: one pass through the same splitter keeps the messages identical.
  const objects: ParsedManifests['objects'] = [];
  const problems: ParsedManifests['problems'] = [];
  let syntaxError: string | undefined;
  let count = 0;
  for (const doc of splitSync(text)) {
    const r = parseDoc(doc, name, count);
    if (r.syntaxError) { syntaxError = r.syntaxError; break; }
    objects.push(...r.objects);
    problems.push(...r.problems);
    count = r.count;
  }
  return { objects, problems, ...(syntaxError ? { syntaxError } : {}) };
}

function* splitSync(text: string): Generator<YamlDoc> {
  let cur: string[] = [];
  let first = 1;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (/^---(\s|$)/.test(lines[i]!) && cur.length) {
      yield { text: cur.join('\n'), firstLine: first };
      cur = [];
      first = i + 1;
    }
    cur.push(lines[i]!);
  }
  if (cur.length) yield { text: cur.join('\n'), firstLine: first };
}

async function* yamlItems(docs: AsyncIterable<YamlDoc>, path: string): AsyncGenerator<ManifestItem> {
  let count = 0;
  let docNo = 0;
  for await (const doc of docs) {
    docNo += 1;
    const r = parseDoc(doc, path, count, docNo);
    if (r.syntaxError) { yield { problem: `error: ${r.syntaxError}` }; return; }
    count = r.count;
    for (const problem of r.problems) yield { problem: `error: ${formatProblem(problem)}` };
    for (const { object } of r.objects) yield { object };
  }
}

function parseDoc(doc: YamlDoc, file: string, before: number, docNo = before + 1): ParsedManifests & { count: number } {
  const parsed = YAML.parseAllDocuments(doc.text, { uniqueKeys: true });
  const list = Array.isArray(parsed) ? parsed : [parsed];
  for (const d of list) {
    if (d.errors.length > 0) {
      const e = d.errors[0]!;
      const line = e.linePos?.[0];
      const at = line ? ` at line ${line.line + doc.firstLine - 1}, column ${line.col}` : '';
      return { objects: [], problems: [], syntaxError: `${file}: document ${docNo}: cannot parse: ${e.code}${at}`, count: before };
    }
  }
  const p = validateDocuments(list.map((d) => d.toJS() as unknown), file, before);
  return { ...p, count: before + documentsIn(p) };
}

/** How many documents a validated piece counted (each is an object or has problems). */
function documentsIn(p: ParsedManifests): number {
  return new Set([...p.objects.map((o) => o.document), ...p.problems.map((x) => x.document)]).size;
}
