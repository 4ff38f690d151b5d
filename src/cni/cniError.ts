/**
 * @module cni/cniError — the CNI error result: `{cniVersion, code, msg, details}` on stdout and a non-zero exit.
 *
 * Codes are the spec's well-known ones (SPEC.md "Error"); 100+ are ours. IP exhaustion has no spec code: host-local
 * returns 999 (libcni's "internal"), we return 11 "try again later" because the condition clears by itself when
 * pods go away, and the runtime retries the sandbox.
 */
import { PodnetError } from '../common/errors.ts';

export const CniCode = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnv: 4,
  ioFailure: 5,
  decodeFailure: 6,
  invalidConfig: 7,
  tryAgainLater: 11,
  statusNotAvailable: 50,
  statusLimitedConnectivity: 51,
  /** Ours: the interface named by CNI_IFNAME already exists in the pod (the spec's MUST for ADD). */
  interfaceExists: 100,
  /** Ours: a kernel or file operation failed. */
  systemFailure: 101,
  /** Ours: CHECK found the attachment different from what ADD made. */
  drift: 102,
  /** Ours: a delegated plugin could not be run. */
  delegateFailure: 103,
  /** Ours: an address or lease conflict (duplicate allocation, requested address taken). */
  addressConflict: 104,
} as const;

export class CniError extends PodnetError {
  readonly cniCode: number;
  readonly details: string | undefined;
  constructor(cniCode: number, msg: string, details?: string) {
    super(`CNI_${cniCode}`, msg);
    this.cniCode = cniCode;
    this.details = details;
  }
}

export interface CniErrorJson {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

/** Any thrown value as a CNI error result; non-CNI errors become 101 with their one-line message. */
export function toErrorJson(err: unknown, cniVersion: string): CniErrorJson {
  if (err instanceof CniError) {
    return { cniVersion, code: err.cniCode, msg: err.message, ...(err.details ? { details: err.details } : {}) };
  }
  const msg = err instanceof Error ? err.message : String(err);
  return { cniVersion, code: CniCode.systemFailure, msg };
}
