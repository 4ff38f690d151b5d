/**
 * @module store/validate — manifests (YAML or JSON, multi-document, `kind: List` too) into typed objects.
 *
 * Every problem names the file, the document (1-based) and the field path:
 *   `app.yaml: document 2 (Service default/web): spec.ports[0].port: must be an integer 1-65535, got "http"`
 * A document with a bad field is reported and skipped; the others load. A YAML syntax error anywhere rejects the
 * whole file: a file being written (half a document) must never be half-applied, so the caller keeps the
 * previous content of that file and tries again later.
 */
import YAML from 'yaml';
import { KINDS, type KindMap, type KindName } from './types.ts';
import { Checker, DNS_LABEL, DNS_SUBDOMAIN, type Raw } from './validateChecks.ts';
import { KIND_CHECKS } from './validateKinds.ts';
import { describeValue } from '../common/config.ts';

export type AnyObject = KindMap[KindName];

export interface ManifestProblem {
  file: string;
  /** 1-based index of the document in the file (items of a List count as documents of their own). */
  document: number;
  /** `Service default/web`, or `?` when the kind or name could not be read. */
  label: string;
  message: string;
}

export function formatProblem(p: ManifestProblem): string {
  return `${p.file}: document ${p.document} (${p.label}): ${p.message}`;
}

export interface ParsedManifests {
  objects: Array<{ object: AnyObject; document: number }>;
  problems: ManifestProblem[];
  /** Set when the file is not valid YAML/JSON: then `objects` is empty and the file must be retried, not applied. */
  syntaxError?: string;
}

export function isKindName(k: unknown): k is KindName {
  return typeof k === 'string' && Object.prototype.hasOwnProperty.call(KINDS, k);
}

/** Case-insensitive kind lookup ("service" → "Service"). */
export function kindByName(name: string): KindName | undefined {
  const lower = name.toLowerCase();
  return (Object.keys(KINDS) as KindName[]).find((k) => k.toLowerCase() === lower);
}

/** Label of a raw document for messages: `Service default/web`. */
export function labelOf(raw: unknown): string {
  if (!raw || typeof raw !== 'object') return '?';
  const r = raw as Raw;
  const meta = (r.metadata && typeof r.metadata === 'object' ? r.metadata : {}) as Raw;
  const kind = typeof r.kind === 'string' ? r.kind : '?';
  const name = typeof meta.name === 'string' ? meta.name : '?';
  const ns = typeof meta.namespace === 'string' ? meta.namespace : (isKindName(kind) && KINDS[kind].namespaced ? 'default' : '');
  return ns ? `${kind} ${ns}/${name}` : `${kind} ${name}`;
}

function checkMeta(c: Checker, r: Raw, kind: KindName): void {
  const meta = c.map(r.metadata, 'metadata', true);
  if (!meta) return;
  const name = c.string(meta.name, 'metadata.name', true);
  if (name && !DNS_SUBDOMAIN.test(name)) c.add('metadata.name', `must be a lowercase DNS name (a-z, 0-9, "-", "."), got "${name}"`);
  if (KINDS[kind].namespaced) {
    meta.namespace ??= 'default';
    const ns = c.string(meta.namespace, 'metadata.namespace');
    if (ns !== undefined && !DNS_LABEL.test(ns)) c.add('metadata.namespace', `must be a DNS label, got "${ns}"`);
  } else {
    // The API server ignores a namespace on cluster-scoped kinds; so do we.
    delete meta.namespace;
  }
  c.stringMap(meta.labels, 'metadata.labels');
  c.stringMap(meta.annotations, 'metadata.annotations');
}

/**
 * Validate one decoded object (mutated in place with API defaults). Returns the typed object or the problems.
 * Used for manifests and for anything read back from etcd or an API server.
 */
export function validateObject(raw: unknown): { object?: AnyObject; problems: string[] } {
  const c = new Checker();
  if (!c.isMap(raw)) return { problems: [`(top level): must be a mapping, got ${describeValue(raw)}`] };
  const kind = raw.kind;
  if (!isKindName(kind)) {
    const known = Object.keys(KINDS).join(', ');
    c.add('kind', kind === undefined ? 'is required' : `unknown kind ${describeValue(kind)} (podnet reads ${known})`);
    return { problems: c.problems };
  }
  const apiVersion = c.string(raw.apiVersion, 'apiVersion', true);
  if (apiVersion && apiVersion !== KINDS[kind].apiVersion && !acceptedVersion(kind, apiVersion)) {
    c.add('apiVersion', `must be ${KINDS[kind].apiVersion} for ${kind}, got "${apiVersion}"`);
  }
  checkMeta(c, raw, kind);
  KIND_CHECKS[kind](c, raw);
  if (c.problems.length > 0) return { problems: c.problems };
  return { object: raw as unknown as AnyObject, problems: [] };
}

// MetalLB served these kinds under older versions that are still common in manifests.
function acceptedVersion(kind: KindName, v: string): boolean {
  return (kind === 'BGPPeer' && v === 'metallb.io/v1beta1') || (kind === 'Lease' && v === 'coordination.k8s.io/v1beta1');
}

/** Parse a manifest file's text. `file` is only used in messages. */
export function parseManifests(text: string, file: string): ParsedManifests {
  const docs = YAML.parseAllDocuments(text, { uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const [i, d] of list.entries()) {
    if (d.errors.length > 0) {
      const e = d.errors[0]!;
      const line = e.linePos?.[0];
      const at = line ? ` at line ${line.line}, column ${line.col}` : '';
      return { objects: [], problems: [], syntaxError: `${file}: document ${i + 1}: cannot parse: ${e.code}${at}` };
    }
  }
  return validateDocuments(list.map((d) => d.toJS() as unknown), file);
}

/** Parse a JSON manifest (one object, a `kind: List`, or an array): much faster than YAML for big files. */
export function parseJsonManifest(text: string, file: string): ParsedManifests {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { objects: [], problems: [], syntaxError: `${file}: cannot parse JSON: ${(err as Error).message}` };
  }
  return validateDocuments(Array.isArray(raw) ? raw : [raw], file);
}

/**
 * Validate decoded documents; empty documents (a trailing `---`) are skipped, List items count one each.
 * `before`: documents already counted in this file (a streamed file is validated piece by piece).
 */
export function validateDocuments(raws: unknown[], file: string, before = 0): ParsedManifests {
  const out: ParsedManifests = { objects: [], problems: [] };
  let index = before;
  for (const raw of raws) {
    if (raw === null || raw === undefined) continue;
    for (const item of expandList(raw)) {
      index += 1;
      const label = labelOf(item);
      const { object, problems } = validateObject(item);
      for (const message of problems) out.problems.push({ file, document: index, label, message });
      if (object) out.objects.push({ object, document: index });
    }
  }
  return out;
}

function expandList(raw: unknown): unknown[] {
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && (raw as Raw).kind === 'List') {
    const items = (raw as Raw).items;
    return Array.isArray(items) ? items : [];
  }
  return [raw];
}
