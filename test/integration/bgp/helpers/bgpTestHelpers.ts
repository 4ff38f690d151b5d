/**
 * Helpers for BGP integration tests: wait for a condition (bounded, never a timing assertion), free loopback
 * ports, and two of our speakers wired to each other on 127.0.0.x.
 */
import { createServer } from 'node:net';
import { Speaker, type SpeakerConfig } from '../../../../src/bgp/speaker.ts';
export { waitFor } from '../../../helpers/waitFor.ts';

/** A TCP port nobody listens on right now at `address`. */
export async function freePort(address = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, address, () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** A distinct 127.x.y.z per test file run, so parallel files and reruns do not collide. */
export function loopbackPair(): [string, string] {
  const x = 1 + (process.pid % 200);
  const y = 1 + Math.floor(Math.random() * 200);
  return [`127.${x}.${y}.1`, `127.${x}.${y}.2`];
}

export function speaker(cfg: SpeakerConfig): Speaker {
  return new Speaker({ connectRetryMs: 200, ...cfg });
}
