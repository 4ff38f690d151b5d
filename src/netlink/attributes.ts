/**
 * @module netlink/attributes — the declarative attribute codec (TLVs, struct nlattr), pure.
 *
 * An attribute spec maps kernel names (IFLA_MTU, IFLA_VXLAN_PORT, ...) to `{ type, kind }`; one generic encoder
 * and decoder walk any spec, and `AttrsOf<Spec>` derives the decoded object's TypeScript type from the same spec,
 * so the kernel name, its number, its wire format and its type are written once (node_netlink generates this
 * from specs; here the spec *is* the code). Unknown attribute numbers are skipped: newer kernels add attributes.
 *
 * Decoding never trusts a length: an attribute shorter than its header, one running past its parent, or a
 * fixed-width value of the wrong size raises NetlinkDecodeError naming the attribute path and offset.
 */
import { ByteWriter, align4 } from './byteWriter.ts';
import { NLA_F_NESTED, NLA_TYPE_MASK } from './constants.ts';
import { NetlinkDecodeError, NetlinkEncodeError } from './errors.ts';
import { formatMac, ipAttrToText, ipTextToAttr, parseMac } from './addressText.ts';

/** Wire formats of leaf attributes. `u16be`/`u32be` are in network byte order (ports, VLAN protocol). */
export interface ScalarTypes {
  u8: number;
  u16: number;
  u32: number;
  s32: number;
  u64: bigint;
  u16be: number;
  u32be: number;
  string: string;
  binary: Uint8Array;
  flag: true;
  ip: string;
  mac: string;
}
export type ScalarKind = keyof ScalarTypes;

/** A value with its own encoder/decoder (struct-prefixed payloads such as VETH_INFO_PEER or RTA_MULTIPATH). */
export interface CustomCodec<T> {
  encode(w: ByteWriter, value: T): void;
  decode(data: Uint8Array, offset: number, path: string): T;
}

export type AttrDef =
  | { readonly type: number; readonly kind: ScalarKind }
  | { readonly type: number; readonly kind: 'nested'; readonly spec: AttrSpec }
  /** A nested list whose children are all the same spec, numbered 1..n (CTRL_ATTR_MCAST_GROUPS). */
  | { readonly type: number; readonly kind: 'array'; readonly spec: AttrSpec }
  /** A nested attribute whose spec depends on a sibling's string value (IFLA_INFO_DATA by IFLA_INFO_KIND). */
  | { readonly type: number; readonly kind: 'variant'; readonly selector: string; readonly variants: Readonly<Record<string, AttrSpec>> }
  | { readonly type: number; readonly kind: 'custom'; readonly codec: CustomCodec<unknown> };

export type AttrSpec = Readonly<Record<string, AttrDef>>;

type VariantValue<V> = V extends Readonly<Record<string, AttrSpec>> ? { [K in keyof V]: AttrsOf<V[K]> }[keyof V] : never;

export type AttrValue<D> = D extends { kind: 'nested'; spec: infer S extends AttrSpec } ? AttrsOf<S>
  : D extends { kind: 'array'; spec: infer S extends AttrSpec } ? AttrsOf<S>[]
  : D extends { kind: 'variant'; variants: infer V } ? VariantValue<V>
  : D extends { kind: 'custom'; codec: CustomCodec<infer T> } ? T
  : D extends { kind: infer K extends ScalarKind } ? ScalarTypes[K]
  : never;

/** The decoded (or to-be-encoded) object of a spec: every attribute optional, keyed by its kernel name. */
export type AttrsOf<S extends AttrSpec> = { -readonly [K in keyof S]?: AttrValue<S[K]> };

/** Build a custom codec with its value type attached (AttrDef holds CustomCodec<unknown>; methods are bivariant). */
export function custom<T>(codec: CustomCodec<T>): { readonly kind: 'custom'; readonly codec: CustomCodec<T> } {
  return { kind: 'custom', codec };
}

const FIXED: Partial<Record<ScalarKind, number>> = { u8: 1, u16: 2, u32: 4, s32: 4, u64: 8, u16be: 2, u32be: 4 };

const byTypeCache = new WeakMap<AttrSpec, Map<number, [string, AttrDef]>>();
function byType(spec: AttrSpec): Map<number, [string, AttrDef]> {
  let m = byTypeCache.get(spec);
  if (!m) {
    m = new Map(Object.entries(spec).map(([name, def]) => [def.type, [name, def]]));
    byTypeCache.set(spec, m);
  }
  return m;
}

// ---------------------------------------------------------------- encoding

export function encodeAttrs<S extends AttrSpec>(w: ByteWriter, spec: S, values: AttrsOf<S>): void {
  const record = values as Record<string, unknown>;
  for (const name of Object.keys(record)) {
    const value = record[name];
    if (value === undefined) continue;
    const def = spec[name];
    if (!def) throw new NetlinkEncodeError(`unknown attribute ${name}`);
    encodeAttr(w, name, def, value, record);
  }
}

function encodeAttr(w: ByteWriter, name: string, def: AttrDef, value: unknown, siblings: Record<string, unknown>): void {
  const start = w.length;
  const nested = def.kind === 'nested' || def.kind === 'array' || def.kind === 'variant';
  w.u16(0);
  w.u16(def.type | (nested ? NLA_F_NESTED : 0));
  switch (def.kind) {
    case 'nested':
      encodeAttrs(w, def.spec, value as AttrsOf<AttrSpec>);
      break;
    case 'array':
      (value as AttrsOf<AttrSpec>[]).forEach((item, i) => encodeAttr(w, `${name}[${i}]`, { type: i + 1, kind: 'nested', spec: def.spec }, item, {}));
      break;
    case 'variant': {
      const selected = def.variants[String(siblings[def.selector])];
      if (!selected) throw new NetlinkEncodeError(`${name} has no spec for ${def.selector}=${String(siblings[def.selector])}`);
      encodeAttrs(w, selected, value as AttrsOf<AttrSpec>);
      break;
    }
    case 'custom':
      (def.codec as CustomCodec<unknown>).encode(w, value);
      break;
    default:
      encodeScalar(w, name, def.kind, value);
  }
  const len = w.length - start;
  if (len > 0xffff) throw new NetlinkEncodeError(`attribute ${name} is ${len} bytes, more than netlink's 65535`);
  w.patchU16(start, len);
  w.pad();
}

function checkInt(name: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new NetlinkEncodeError(`${name} must be an integer 0..${max}, got ${String(v)}`);
  }
  return v;
}

function encodeScalar(w: ByteWriter, name: string, kind: ScalarKind, v: unknown): void {
  switch (kind) {
    case 'u8': return w.u8(checkInt(name, v, 0xff));
    case 'u16': return w.u16(checkInt(name, v, 0xffff));
    case 'u16be': return w.u16be(checkInt(name, v, 0xffff));
    case 'u32': return w.u32(checkInt(name, v, 0xffffffff));
    case 'u32be': {
      const n = checkInt(name, v, 0xffffffff);
      return w.bytes(Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff));
    }
    case 's32':
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new NetlinkEncodeError(`${name} must be an integer`);
      return w.s32(v);
    case 'u64': return w.u64(BigInt(v as bigint));
    case 'string':
      w.bytes(new TextEncoder().encode(String(v)));
      return w.u8(0);
    case 'binary': return w.bytes(v as Uint8Array);
    case 'flag': return;
    case 'ip': return w.bytes(ipTextToAttr(String(v)));
    case 'mac': return w.bytes(parseMac(String(v)));
  }
}

// ---------------------------------------------------------------- decoding

/**
 * Walk the TLVs in data[offset, end), calling `visit(type, start, end)` for each value. Validates every length
 * against the parent, so nothing downstream can read past it; a zero length cannot loop (it is rejected).
 */
export function walkAttrs(data: Uint8Array, offset: number, end: number, path: string, visit: (type: number, s: number, e: number) => void): void {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let off = offset;
  while (end - off >= 4) {
    const len = view.getUint16(off, true);
    const type = view.getUint16(off + 2, true) & NLA_TYPE_MASK;
    if (len < 4) throw new NetlinkDecodeError(`attribute length ${len} is shorter than its 4-byte header`, off, path);
    if (off + len > end) throw new NetlinkDecodeError(`attribute type ${type} of length ${len} runs past its parent (${end - off} bytes left)`, off, path);
    visit(type, off + 4, off + len);
    off += align4(len);
  }
}

/** Decode the attributes in data[offset, end). `path` names the parent for error messages. */
export function decodeAttrs<S extends AttrSpec>(data: Uint8Array, offset: number, end: number, spec: S, path: string): AttrsOf<S> {
  const out: Record<string, unknown> = {};
  const variants: Array<[string, Extract<AttrDef, { kind: 'variant' }>, number, number]> = [];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const table = byType(spec);
  walkAttrs(data, offset, end, path, (type, s, e) => {
    const known = table.get(type);
    if (!known) return;
    const [name, def] = known;
    if (def.kind === 'variant') variants.push([name, def, s, e]);
    else out[name] = decodeValue(data, view, s, e, def, `${path}/${name}`);
  });
  // A variant is decoded after its selector, which the kernel may put anywhere among the siblings.
  for (const [name, def, s, e] of variants) {
    const selected = def.variants[String(out[def.selector])];
    out[name] = selected ? decodeAttrs(data, s, e, selected, `${path}/${name}`) : data.slice(s, e);
  }
  return out as AttrsOf<S>;
}

function decodeValue(data: Uint8Array, view: DataView, s: number, e: number, def: AttrDef, path: string): unknown {
  switch (def.kind) {
    case 'nested': return decodeAttrs(data, s, e, def.spec, path);
    case 'array': {
      const items: unknown[] = [];
      walkAttrs(data, s, e, path, (_t, cs, ce) => items.push(decodeAttrs(data, cs, ce, def.spec, `${path}[${items.length}]`)));
      return items;
    }
    case 'variant': return data.slice(s, e);
    case 'custom': return def.codec.decode(data.subarray(s, e), s, path);
    default: return decodeScalar(data, view, s, e, def.kind, path);
  }
}

function decodeScalar(data: Uint8Array, view: DataView, s: number, e: number, kind: ScalarKind, path: string): unknown {
  const size = e - s;
  const fixed = FIXED[kind];
  if (fixed !== undefined && size !== fixed) throw new NetlinkDecodeError(`${kind} value has ${size} bytes, expected ${fixed}`, s, path);
  switch (kind) {
    case 'u8': return view.getUint8(s);
    case 'u16': return view.getUint16(s, true);
    case 'u16be': return view.getUint16(s, false);
    case 'u32': return view.getUint32(s, true);
    case 'u32be': return view.getUint32(s, false);
    case 's32': return view.getInt32(s, true);
    case 'u64': return view.getBigUint64(s, true);
    case 'flag': return true;
    case 'string': {
      let z = s;
      while (z < e && data[z] !== 0) z++;
      return new TextDecoder().decode(data.subarray(s, z));
    }
    case 'binary': return data.slice(s, e);
    case 'mac': return formatMac(data.subarray(s, e));
    case 'ip':
      if (size !== 4 && size !== 16) throw new NetlinkDecodeError(`address has ${size} bytes, expected 4 or 16`, s, path);
      return ipAttrToText(data.subarray(s, e));
  }
}
