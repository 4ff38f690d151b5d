/**
 * @module routing/backends/backendTable — the one explicit table of routing backends (no import-time
 * registration). `--backend` is checked against its keys.
 */
import { ConfigError } from '../../common/errors.ts';
import type { BackendName } from '../routingModel.ts';
import { crossSubnetBackend } from './crossSubnetBackend.ts';
import { hostGwBackend } from './hostGwBackend.ts';
import { ipipBackend } from './ipipBackend.ts';
import type { RoutingBackend } from './routingBackend.ts';
import { vxlanBackend } from './vxlanBackend.ts';

export const BACKENDS: Readonly<Record<BackendName, RoutingBackend>> = {
  vxlan: vxlanBackend,
  'host-gw': hostGwBackend,
  'cross-subnet': crossSubnetBackend,
  ipip: ipipBackend,
};

export const BACKEND_NAMES = Object.keys(BACKENDS) as BackendName[];

export function isBackendName(v: string): v is BackendName {
  return Object.hasOwn(BACKENDS, v);
}

export function backendNamed(name: string, field = '--backend'): RoutingBackend {
  if (!isBackendName(name)) throw new ConfigError(`unknown routing backend "${name}" (one of: ${BACKEND_NAMES.join(', ')})`, { field });
  return BACKENDS[name];
}
