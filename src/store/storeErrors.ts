/**
 * @module store/storeErrors — what callers of the store branch on. Messages follow kubectl's wording
 * (`services "web" not found`) so podnetctl can print them as `Error from server (NotFound): ...`.
 */
import { PodnetError } from '../common/errors.ts';
import type { KindName } from './types.ts';

/** `services`, `endpointslices`, `ipaddresspools`: the resource name kubectl prints. */
export function resourceName(kind: KindName): string {
  const lower = kind.toLowerCase();
  return lower.endsWith('s') ? `${lower}es` : `${lower}s`;
}

export class NotFoundError extends PodnetError {
  readonly reason = 'NotFound';
  constructor(kind: KindName, name: string) {
    super('PODNET_STORE_NOT_FOUND', `${resourceName(kind)} "${name}" not found`);
  }
}

export class AlreadyExistsError extends PodnetError {
  readonly reason = 'AlreadyExists';
  constructor(kind: KindName, name: string) {
    super('PODNET_STORE_ALREADY_EXISTS', `${resourceName(kind)} "${name}" already exists`);
  }
}

/** An update carried a resourceVersion that is no longer current: someone else wrote the object first. */
export class ConflictError extends PodnetError {
  readonly reason = 'Conflict';
  constructor(kind: KindName, name: string, detail = 'the object has been modified; please apply your changes to the latest version and try again') {
    super('PODNET_STORE_CONFLICT', `Operation cannot be fulfilled on ${resourceName(kind)} "${name}": ${detail}`);
  }
}

/** A watch asked for a resourceVersion the backend no longer has (etcd compaction, HTTP 410 Gone): relist. */
export class ExpiredError extends PodnetError {
  readonly reason = 'Expired';
  constructor(detail: string) {
    super('PODNET_STORE_EXPIRED', `watch expired: ${detail}`);
  }
}

/** A held lease was taken over or ran out before it was renewed. */
export class LeaseLostError extends PodnetError {
  readonly reason = 'LeaseLost';
  constructor(name: string, detail: string) {
    super('PODNET_LEASE_LOST', `lease "${name}" lost: ${detail}`);
  }
}

/** The store itself cannot be reached or rejected the request for another reason. */
export class StoreUnavailableError extends PodnetError {
  readonly reason = 'ServiceUnavailable';
  constructor(what: string, options?: { cause?: unknown }) {
    super('PODNET_STORE_UNAVAILABLE', what, options);
  }
}

/** A write carried an object that fails validation; `problems` lists `field: message` lines. */
export class InvalidObjectError extends PodnetError {
  readonly reason = 'Invalid';
  readonly problems: readonly string[];
  constructor(kind: string, name: string, problems: readonly string[]) {
    super('PODNET_STORE_INVALID', `${kind} "${name}" is invalid: ${problems.join('; ')}`);
    this.problems = problems;
  }
}
