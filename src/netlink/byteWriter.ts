/**
 * @module netlink/byteWriter — a growable little buffer writer for building netlink messages without a
 * concatenation per attribute. Netlink integers are in host byte order; this code assumes a little-endian host
 * (x86-64, arm64), checked once at load so a big-endian port fails loudly instead of sending garbage.
 */
import { endianness } from 'node:os';

if (endianness() !== 'LE') throw new Error('podnet netlink codec supports little-endian hosts only');

/** Round up to the 4-byte boundary netlink aligns headers and attributes to (NLMSG_ALIGN / NLA_ALIGN). */
export function align4(n: number): number {
  return (n + 3) & ~3;
}

export class ByteWriter {
  #buf: Uint8Array;
  #view: DataView;
  #len = 0;

  constructor(initial = 256) {
    this.#buf = new Uint8Array(initial);
    this.#view = new DataView(this.#buf.buffer);
  }

  get length(): number {
    return this.#len;
  }

  #ensure(extra: number): void {
    const need = this.#len + extra;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.#ensure(1);
    this.#view.setUint8(this.#len, v);
    this.#len += 1;
  }

  u16(v: number): void {
    this.#ensure(2);
    this.#view.setUint16(this.#len, v, true);
    this.#len += 2;
  }

  u16be(v: number): void {
    this.#ensure(2);
    this.#view.setUint16(this.#len, v, false);
    this.#len += 2;
  }

  u32(v: number): void {
    this.#ensure(4);
    this.#view.setUint32(this.#len, v >>> 0, true);
    this.#len += 4;
  }

  s32(v: number): void {
    this.#ensure(4);
    this.#view.setInt32(this.#len, v, true);
    this.#len += 4;
  }

  u64(v: bigint): void {
    this.#ensure(8);
    this.#view.setBigUint64(this.#len, v, true);
    this.#len += 8;
  }

  bytes(b: Uint8Array): void {
    this.#ensure(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }

  /** Zero bytes up to the next 4-byte boundary. */
  pad(): void {
    const target = align4(this.#len);
    this.#ensure(target - this.#len);
    this.#buf.fill(0, this.#len, target);
    this.#len = target;
  }

  /** Overwrite a u16 already written (lengths are known only after the body). */
  patchU16(offset: number, v: number): void {
    this.#view.setUint16(offset, v, true);
  }

  patchU32(offset: number, v: number): void {
    this.#view.setUint32(offset, v >>> 0, true);
  }

  /** A copy of what was written. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}
