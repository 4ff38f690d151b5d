/**
 * @module services/nftables/nftRuleCompiler — the rule text nftPlanner writes for DYNAMIC chains (service,
 * external, endpoint chains) → nf_tables expressions, exactly as nft 1.0.6 compiles the same text (same
 * expressions, registers, widths and implicit dependencies such as `meta l4proto tcp` before `tcp dport`), so
 * `nft list` prints a rule added by netlink the same as one added by `nft -f`. Pure.
 *
 * It knows only that small grammar, on purpose. Anything else (an anonymous set such as the firewall chain's
 * `ip saddr != { ranges }`) raises NftNotCompilable and the applier sends that sync through `nft -f` instead.
 */
import { ipTextToAttr } from '../../netlink/addressText.ts';
import { NFPROTO, NFT_REG_1, NFT_REG_2, NFT_REG32_01, RTN_LOCAL } from '../../netlink/nftables/nftConstants.ts';
import type { NftExpr, VerdictKind } from '../../netlink/nftables/nftExpressions.ts';
import type { NftFamily } from './nftSkeleton.ts';

export class NftNotCompilable extends Error {
  constructor(readonly rule: string, why: string) {
    super(`rule not expressible on the netlink path (${why}): ${rule}`);
  }
}

export const L4PROTO: Readonly<Record<string, number>> = { tcp: 6, udp: 17, sctp: 132 };

const ADDR = { ip: { saddr: 12, daddr: 16, len: 4 }, ip6: { saddr: 8, daddr: 24, len: 16 } } as const;

function u32host(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true); // numgen and fib results are host-order integers
  return b;
}

function be16(n: number): Uint8Array {
  return Uint8Array.of((n >> 8) & 0xff, n & 0xff);
}

function l4protoMatch(p: string, rule: string): NftExpr[] {
  const num = L4PROTO[p];
  if (num === undefined) throw new NftNotCompilable(rule, `protocol ${p}`);
  return [{ expr: 'meta', dreg: NFT_REG_1, key: 'l4proto' }, { expr: 'cmp', sreg: NFT_REG_1, op: 'eq', data: Uint8Array.of(num) }];
}

function addrLoad(f: NftFamily, which: 'saddr' | 'daddr'): NftExpr {
  return { expr: 'payload', dreg: NFT_REG_1, base: 'network', offset: ADDR[f][which], len: ADDR[f].len };
}

/** `dnat to A:P` / `dnat to [A6]:P`. */
function dnat(f: NftFamily, target: string, rule: string): NftExpr[] {
  const m = f === 'ip' ? /^([0-9.]+):(\d+)$/.exec(target) : /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(target);
  if (!m) throw new NftNotCompilable(rule, `dnat target ${target}`);
  return [
    { expr: 'immediate', dreg: NFT_REG_1, data: ipTextToAttr(m[1]!) },
    { expr: 'immediate', dreg: NFT_REG_2, data: be16(Number(m[2])) },
    { expr: 'natDnat', family: NFPROTO[f], regAddr: NFT_REG_1, regProto: NFT_REG_2 },
  ];
}

/**
 * `dnat F to numgen random mod M [offset B] map @eps-…` (nftDispatchMaps): numgen, `byteorder hton` (nft converts the
 * integer key to network order), a map lookup whose data `addr . port` lands in reg 1 (the port in the next 32-bit
 * register after a 4-byte address, in reg 2 after a 16-byte one), and a nat without the proto-specified flag.
 */
function dnatMap(f: NftFamily, tk: Tokens): NftExpr[] {
  tk.expect('to');
  tk.expect('numgen');
  tk.expect('random');
  tk.expect('mod');
  const modulus = Number(tk.next('a modulus'));
  let offset = 0;
  if (tk.t[tk.i] === 'offset') { // the slot's base in a shared dispatch map
    tk.i++;
    offset = Number(tk.next('an offset'));
  }
  tk.expect('map');
  const set = tk.next('a map');
  if (!set.startsWith('@')) throw new NftNotCompilable(tk.rule, 'anonymous map');
  return [
    { expr: 'numgen', dreg: NFT_REG_1, modulus, offset },
    { expr: 'byteorderHton', sreg: NFT_REG_1, dreg: NFT_REG_1, len: 4, size: 4 },
    { expr: 'lookup', sreg: NFT_REG_1, dreg: NFT_REG_1, set: set.slice(1), invert: false },
    { expr: 'natDnat', family: NFPROTO[f], regAddr: NFT_REG_1, regProto: f === 'ip' ? NFT_REG32_01 : NFT_REG_2, protoFlag: false },
  ];
}

class Tokens {
  i = 0;
  constructor(readonly t: readonly string[], readonly rule: string) {}
  next(what: string): string {
    const v = this.t[this.i++];
    if (v === undefined) throw new NftNotCompilable(this.rule, `expected ${what}`);
    return v;
  }
  expect(word: string): void {
    const v = this.next(word);
    if (v !== word) throw new NftNotCompilable(this.rule, `expected ${word}, got ${v}`);
  }
  get done(): boolean {
    return this.i >= this.t.length;
  }
}

/** `ip saddr 1.2.3.4`, `ip daddr != @set`, `ip saddr @set`. */
function addrMatch(f: NftFamily, tk: Tokens, out: NftExpr[]): void {
  const which = tk.next('saddr|daddr');
  if (which !== 'saddr' && which !== 'daddr') throw new NftNotCompilable(tk.rule, `${f} ${which}`);
  let v = tk.next('a value');
  const invert = v === '!=';
  if (invert) v = tk.next('a set');
  out.push(addrLoad(f, which));
  if (v.startsWith('@')) out.push({ expr: 'lookup', sreg: NFT_REG_1, set: v.slice(1), invert });
  else if (!invert && !v.startsWith('{')) out.push({ expr: 'cmp', sreg: NFT_REG_1, op: 'eq', data: ipTextToAttr(v) });
  else throw new NftNotCompilable(tk.rule, 'anonymous set or negated address');
}

function statement(f: NftFamily, tk: Tokens, out: NftExpr[]): void {
  const w = tk.next('a statement');
  if (w === f) return addrMatch(f, tk, out);
  if (L4PROTO[w] !== undefined) { // `tcp dport 80`: nft adds the l4proto dependency
    tk.expect('dport');
    const port = Number(tk.next('a port'));
    out.push(...l4protoMatch(w, tk.rule), { expr: 'payload', dreg: NFT_REG_1, base: 'transport', offset: 2, len: 2 });
    out.push({ expr: 'cmp', sreg: NFT_REG_1, op: 'eq', data: be16(port) });
    return;
  }
  switch (w) {
    case 'meta':
      tk.expect('l4proto');
      out.push(...l4protoMatch(tk.next('a protocol'), tk.rule));
      return;
    case 'numgen': {
      tk.expect('random');
      tk.expect('mod');
      const mod = Number(tk.next('a modulus'));
      const value = Number(tk.next('a value'));
      out.push({ expr: 'numgen', dreg: NFT_REG_1, modulus: mod, offset: 0 }, { expr: 'cmp', sreg: NFT_REG_1, op: 'eq', data: u32host(value) });
      return;
    }
    case 'update': { // update @set { ip saddr }
      const set = tk.next('a set');
      tk.expect('{');
      tk.expect(f);
      tk.expect('saddr');
      tk.expect('}');
      out.push(addrLoad(f, 'saddr'), { expr: 'dynsetUpdate', sregKey: NFT_REG_1, set: set.slice(1) });
      return;
    }
    case 'fib':
      tk.expect('saddr');
      tk.expect('type');
      tk.expect('local');
      out.push({ expr: 'fibSaddrType', dreg: NFT_REG_1 }, { expr: 'cmp', sreg: NFT_REG_1, op: 'eq', data: u32host(RTN_LOCAL) });
      return;
    case 'dnat':
      if (tk.t[tk.i] === f) {
        tk.i++;
        out.push(...dnatMap(f, tk));
        return;
      }
      tk.expect('to');
      out.push(...dnat(f, tk.next('a target'), tk.rule));
      return;
    case 'jump':
    case 'goto':
      out.push({ expr: 'verdict', verdict: { kind: w, chain: tk.next('a chain') } });
      return;
    case 'drop':
    case 'accept':
    case 'return':
      out.push({ expr: 'verdict', verdict: { kind: w as VerdictKind } });
      return;
    default:
      throw new NftNotCompilable(tk.rule, `statement ${w}`);
  }
}

/** One rule of a dynamic chain → its expressions; NftNotCompilable for anything outside the planner's grammar. */
export function compileRule(f: NftFamily, rule: string): NftExpr[] {
  const tk = new Tokens(rule.trim().split(/\s+/), rule);
  const out: NftExpr[] = [];
  while (!tk.done) statement(f, tk, out);
  return out;
}
