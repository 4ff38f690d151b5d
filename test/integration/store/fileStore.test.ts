import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineStoreSuite } from './storeBehaviour.ts';
import { FileStore } from '../../../src/store/backends/fileStore.ts';
import type { ExecutionContext } from 'ava';

async function fileFixture(t: ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), 'podnet-filestore-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = await FileStore.open(dir, { rescanMs: 500 });
  const writer = await FileStore.open(dir, { rescanMs: 500 });
  t.teardown(async () => { await store.close(); await writer.close(); });
  return {
    store, writer,
    forgetHistory: () => store.compact(),
    injectBad: async (ns: string) => {
      writeFileSync(join(dir, `app-${ns}.yaml`), [
        `apiVersion: v1\nkind: Service\nmetadata: {name: good, namespace: ${ns}}\nspec: {ports: [{port: 80}]}`,
        `apiVersion: v1\nkind: Service\nmetadata: {name: bad, namespace: ${ns}}\nspec: {ports: [{port: http}]}`,
      ].join('\n---\n'));
    },
    problems: () => [...store.problems],
  };
}

defineStoreSuite('file', fileFixture);
