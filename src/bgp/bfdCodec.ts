/**
 * @module bgp/bfdCodec — BFD control packets (RFC 5880 4.1, no authentication section) and the reception checks
 * of RFC 5880 6.8.6 that can be judged from the bytes alone. Pure.
 */

export const BfdState = { AdminDown: 0, Down: 1, Init: 2, Up: 3 } as const;
export type BfdStateValue = (typeof BfdState)[keyof typeof BfdState];
export const BFD_STATE_NAMES = ['AdminDown', 'Down', 'Init', 'Up'] as const;

export const BfdDiag = {
  None: 0, ControlDetectionTimeExpired: 1, EchoFailed: 2, NeighborSignaledDown: 3, ForwardingPlaneReset: 4,
  PathDown: 5, ConcatenatedPathDown: 6, AdministrativelyDown: 7, ReverseConcatenatedPathDown: 8,
} as const;

/** RFC 5881 4: single-hop control packets go to UDP 3784 with TTL 255. */
export const BFD_PORT = 3784;
export const BFD_TTL = 255;

export interface BfdPacket {
  version: number;
  diag: number;
  state: BfdStateValue;
  poll: boolean;
  final: boolean;
  controlPlaneIndependent: boolean;
  authPresent: boolean;
  demand: boolean;
  multipoint: boolean;
  detectMult: number;
  myDiscriminator: number;
  yourDiscriminator: number;
  /** Microseconds, as on the wire. */
  desiredMinTx: number;
  requiredMinRx: number;
  requiredMinEchoRx: number;
}

export function encodeBfd(p: Omit<BfdPacket, 'version'>): Uint8Array {
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  b[0] = (1 << 5) | (p.diag & 0x1f);
  b[1] = (p.state << 6) | (p.poll ? 0x20 : 0) | (p.final ? 0x10 : 0) | (p.controlPlaneIndependent ? 0x08 : 0)
    | (p.authPresent ? 0x04 : 0) | (p.demand ? 0x02 : 0) | (p.multipoint ? 0x01 : 0);
  b[2] = p.detectMult;
  b[3] = 24;
  dv.setUint32(4, p.myDiscriminator >>> 0);
  dv.setUint32(8, p.yourDiscriminator >>> 0);
  dv.setUint32(12, p.desiredMinTx >>> 0);
  dv.setUint32(16, p.requiredMinRx >>> 0);
  dv.setUint32(20, p.requiredMinEchoRx >>> 0);
  return b;
}

export type BfdDecodeResult = { ok: true; packet: BfdPacket } | { ok: false; reason: string };

/** Decode and apply the stateless checks of RFC 5880 6.8.6; a failed check means "discard the packet". */
export function decodeBfd(b: Uint8Array): BfdDecodeResult {
  if (b.length < 24) return { ok: false, reason: `packet of ${b.length} octets` };
  const version = b[0]! >> 5;
  if (version !== 1) return { ok: false, reason: `version ${version}` };
  const length = b[3]!;
  if (length < 24 || length > b.length) return { ok: false, reason: `length field ${length}` };
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const p: BfdPacket = {
    version, diag: b[0]! & 0x1f, state: (b[1]! >> 6) as BfdStateValue,
    poll: (b[1]! & 0x20) !== 0, final: (b[1]! & 0x10) !== 0, controlPlaneIndependent: (b[1]! & 0x08) !== 0,
    authPresent: (b[1]! & 0x04) !== 0, demand: (b[1]! & 0x02) !== 0, multipoint: (b[1]! & 0x01) !== 0,
    detectMult: b[2]!, myDiscriminator: dv.getUint32(4), yourDiscriminator: dv.getUint32(8),
    desiredMinTx: dv.getUint32(12), requiredMinRx: dv.getUint32(16), requiredMinEchoRx: dv.getUint32(20),
  };
  if (p.detectMult === 0) return { ok: false, reason: 'detect multiplier 0' };
  if (p.multipoint) return { ok: false, reason: 'multipoint bit set' };
  if (p.myDiscriminator === 0) return { ok: false, reason: 'my discriminator 0' };
  if (p.yourDiscriminator === 0 && p.state !== BfdState.Down && p.state !== BfdState.AdminDown) {
    return { ok: false, reason: 'your discriminator 0 outside Down/AdminDown' };
  }
  if (p.authPresent) return { ok: false, reason: 'authentication is not configured' };
  if (p.poll && p.final) return { ok: false, reason: 'both Poll and Final set' };
  return { ok: true, packet: p };
}
