/**
 * @module bgp/notification — NOTIFICATION codes and subcodes with their RFC names (RFC 4271 4.5 / 6, RFC 4486 /
 * RFC 9384 Cease subcodes, RFC 7313 / 2918 route refresh, RFC 8538 Hard Reset), plus the typed error a decoder returns
 * when the session must be reset. Pure.
 */

export const ErrorCode = {
  MessageHeader: 1,
  Open: 2,
  Update: 3,
  HoldTimerExpired: 4,
  Fsm: 5,
  Cease: 6,
  RouteRefresh: 7,
} as const;

export const HeaderSubcode = { ConnectionNotSynchronized: 1, BadMessageLength: 2, BadMessageType: 3 } as const;

export const OpenSubcode = {
  UnsupportedVersion: 1,
  BadPeerAs: 2,
  BadBgpIdentifier: 3,
  UnsupportedOptionalParameter: 4,
  UnacceptableHoldTime: 6,
  UnsupportedCapability: 7,
} as const;

export const UpdateSubcode = {
  MalformedAttributeList: 1,
  UnrecognizedWellKnownAttribute: 2,
  MissingWellKnownAttribute: 3,
  AttributeFlagsError: 4,
  AttributeLengthError: 5,
  InvalidOrigin: 6,
  InvalidNextHop: 8,
  OptionalAttributeError: 9,
  InvalidNetworkField: 10,
  MalformedAsPath: 11,
} as const;

export const CeaseSubcode = {
  MaximumPrefixesReached: 1,
  AdministrativeShutdown: 2,
  PeerDeconfigured: 3,
  AdministrativeReset: 4,
  ConnectionRejected: 5,
  OtherConfigurationChange: 6,
  ConnectionCollisionResolution: 7,
  OutOfResources: 8,
  HardReset: 9,
  /** RFC 9384. */
  BfdDown: 10,
} as const;

const CODE_NAMES: Record<number, string> = {
  1: 'Message Header Error',
  2: 'OPEN Message Error',
  3: 'UPDATE Message Error',
  4: 'Hold Timer Expired',
  5: 'Finite State Machine Error',
  6: 'Cease',
  7: 'ROUTE-REFRESH Message Error',
};

const SUBCODE_NAMES: Record<number, Record<number, string>> = {
  1: { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' },
  2: {
    1: 'Unsupported Version Number', 2: 'Bad Peer AS', 3: 'Bad BGP Identifier',
    4: 'Unsupported Optional Parameter', 6: 'Unacceptable Hold Time', 7: 'Unsupported Capability',
  },
  3: {
    1: 'Malformed Attribute List', 2: 'Unrecognized Well-known Attribute', 3: 'Missing Well-known Attribute',
    4: 'Attribute Flags Error', 5: 'Attribute Length Error', 6: 'Invalid ORIGIN Attribute',
    8: 'Invalid NEXT_HOP Attribute', 9: 'Optional Attribute Error', 10: 'Invalid Network Field',
    11: 'Malformed AS_PATH',
  },
  6: {
    1: 'Maximum Number of Prefixes Reached', 2: 'Administrative Shutdown', 3: 'Peer De-configured',
    4: 'Administrative Reset', 5: 'Connection Rejected', 6: 'Other Configuration Change',
    7: 'Connection Collision Resolution', 8: 'Out of Resources', 9: 'Hard Reset', 10: 'BFD Down',
  },
  7: { 1: 'Invalid Message Length' },
};

/** "Cease / Administrative Shutdown", or numbers when the pair is not one we know. */
export function describeNotification(code: number, subcode: number): string {
  const name = CODE_NAMES[code] ?? `code ${code}`;
  if (subcode === 0) return name;
  return `${name} / ${SUBCODE_NAMES[code]?.[subcode] ?? `subcode ${subcode}`}`;
}

/**
 * What a decoder found that obliges the speaker to send a NOTIFICATION and drop the session. `data` is what
 * RFC 4271 6.x says to echo back (the bad length, the offending attribute...).
 */
export interface ProtocolError {
  code: number;
  subcode: number;
  data: Uint8Array;
  /** Human-readable detail for logs: what was wrong, where. */
  reason: string;
}

export function protocolError(code: number, subcode: number, reason: string, data?: Uint8Array): ProtocolError {
  return { code, subcode, reason, data: data ?? new Uint8Array(0) };
}
