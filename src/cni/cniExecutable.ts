/**
 * @module cni/cniExecutable — the process edge of a CNI executable (podnet, podnet-ipam): read stdin, run the
 * plugin, write stdout, set the exit code. Snapshot-aware: when Node is building a V8 start-up snapshot
 * (`node --build-snapshot`, done by `podnetctl install-cni`), the plugin code is loaded and compiled into the
 * snapshot and the invocation itself is deferred to the deserialised main function; otherwise it runs at once.
 * Start-up numbers and the rejected alternatives are in src/cni/README.md.
 */
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { runPlugin, type CniPlugin } from './skel.ts';

function readAllStdin(): Uint8Array {
  try {
    return readFileSync(0);
  } catch (err) {
    // No stdin at all (closed, a TTY in EAGAIN mode): VERSION still works, other verbs report code 6.
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN' || (err as NodeJS.ErrnoException).code === 'EOF') return new Uint8Array();
    return new Uint8Array();
  }
}

function invoke(makePlugin: () => CniPlugin): void {
  void runPlugin(makePlugin(), {
    env: process.env,
    stdin: readAllStdin(),
    writeStdout: (text) => process.stdout.write(text),
  }).then((code) => { process.exitCode = code; });
}

export function runCniExecutable(makePlugin: () => CniPlugin): void {
  const snapshot = (v8 as { startupSnapshot?: { isBuildingSnapshot(): boolean; setDeserializeMainFunction(fn: () => void): void } }).startupSnapshot;
  if (snapshot?.isBuildingSnapshot()) snapshot.setDeserializeMainFunction(() => invoke(makePlugin));
  else invoke(makePlugin);
}
