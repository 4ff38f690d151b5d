/**
 * @module store/ctl/ctlIO — where podnetctl's store commands write (injectable for tests), which store they use by
 * default, and kubectl's error wording: `Error from server (NotFound): services "web" not found`.
 */
import { existsSync } from 'node:fs';
import { describeError } from '../../common/errors.ts';

export interface CtlIO {
  out(text: string): void;
  err(text: string): void;
  readStdin(): Promise<string>;
  env: NodeJS.ProcessEnv;
  exists(path: string): boolean;
}

export const LAB_STORE_DIR = '/run/podnet-lab/podnet/store';
export const DEFAULT_STORE = 'file:/etc/podnet/state';

export function processIO(): CtlIO {
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    env: process.env,
    exists: existsSync,
  };
}

/** `--store`, else $PODNET_STORE, else the running lab's store, else file:/etc/podnet/state. */
export function storeSpecFor(flag: string | undefined, io: CtlIO): string {
  if (flag) return flag;
  if (io.env.PODNET_STORE) return io.env.PODNET_STORE;
  if (io.exists(LAB_STORE_DIR)) return `file:${LAB_STORE_DIR}`;
  return DEFAULT_STORE;
}

/** kubectl's shape for an error the store returned; other errors as `error: ...`. */
export function serverError(err: unknown, context: string): string {
  const reason = (err as { reason?: string }).reason;
  if (reason && reason !== 'ServiceUnavailable') return `Error from server (${reason}): ${describeError(err)}`;
  return `error: ${context === describeError(err) ? context : `${context}: ${describeError(err)}`}`;
}
