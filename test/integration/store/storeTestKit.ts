/** Helpers shared by the store tests: objects to write, a logger that records lines, waiting for a condition. */
import pino from 'pino';
import type { Logger } from '../../../src/common/logger.ts';
import type { Service } from '../../../src/store/types.ts';
export { waitFor } from '../../helpers/waitFor.ts';

export function service(name: string, namespace: string, port = 80, extra: Partial<Service['spec']> = {}): Service {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, namespace, labels: { app: name } },
    spec: { selector: { app: name }, ports: [{ name: 'http', port, protocol: 'TCP', targetPort: 8080 }], ...extra },
  };
}

export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (l: string) => { lines.push(l); } });
  return { logger, lines };
}

/** Poll until `cond` is true; fail (throw) after `ms`. Not a timing assertion: only a bound on a hang. */
let counter = 0;
/** A namespace name unique within this process, so tests sharing one store never see each other's objects. */
export function uniqueNs(tag: string): string {
  counter += 1;
  return `${tag}-${process.pid.toString(36)}-${counter}`;
}
