import test, { type ExecutionContext } from 'ava';
import pino from 'pino';
import { defineStoreSuite } from './storeBehaviour.ts';
import { EtcdStore } from '../../../src/store/backends/etcdStore.ts';
import { keyOf } from '../../../src/store/backends/etcdKeys.ts';
import { SharedTeardown, startEtcd, type EtcdCluster } from './etcdFixture.ts';

const shared = new SharedTeardown();
let cluster: Promise<EtcdCluster> | undefined;
test.after.always(() => shared.run());

async function etcdFixture(t: ExecutionContext) {
  cluster ??= startEtcd(shared, 1);
  const { urls } = await cluster;
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (l: string) => { lines.push(l); } });
  const store = await EtcdStore.open(urls, { logger });
  const writer = await EtcdStore.open(urls);
  t.teardown(async () => { await store.close(); await writer.close(); });
  return {
    store, writer,
    forgetHistory: async () => {
      const rev = (await writer.client.kv.range({ key: Buffer.from('/') })).header.revision;
      await writer.client.kv.compact({ revision: rev, physical: true });
    },
    injectBad: async (ns: string) => {
      const good = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'good', namespace: ns }, spec: { ports: [{ port: 80 }] } };
      const bad = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'bad', namespace: ns }, spec: { ports: [{ port: 'http' }] } };
      await writer.client.put(keyOf('Service', 'bad', ns)).value(JSON.stringify(bad));
      await writer.client.put(keyOf('Service', 'good', ns)).value(JSON.stringify(good));
    },
    problems: () => lines.map((l) => (JSON.parse(l) as { msg: string }).msg),
  };
}

defineStoreSuite('etcd', etcdFixture);
