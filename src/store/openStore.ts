/**
 * @module store/openStore — the one table from a `--store` value to a backend: `file:DIR`, `etcd:URL[,URL...]`,
 * `kube`. Backends are imported on demand so a file-store daemon never loads gRPC or the Kubernetes client.
 */
import { ConfigError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { Store } from './store.ts';

export interface OpenStoreOptions {
  logger?: Logger;
  /** A short-lived writer (podnetctl apply/delete): the file store reads its objects only when first listed. */
  writer?: boolean;
}

export async function openStore(spec: string, opts: OpenStoreOptions = {}): Promise<Store> {
  const colon = spec.indexOf(':');
  const scheme = colon < 0 ? spec : spec.slice(0, colon);
  const rest = colon < 0 ? '' : spec.slice(colon + 1);
  switch (scheme) {
    case 'file': {
      if (!rest) throw new ConfigError('file store needs a directory: file:DIR', { field: '--store' });
      const { FileStore } = await import('./backends/fileStore.ts');
      return FileStore.open(rest, { ...(opts.logger ? { logger: opts.logger } : {}), lazy: opts.writer ?? false });
    }
    case 'etcd': {
      const urls = rest.split(',').map((u) => u.trim()).filter(Boolean);
      if (urls.length === 0) throw new ConfigError('etcd store needs endpoints: etcd:http://HOST:2379[,...]', { field: '--store' });
      const { EtcdStore } = await import('./backends/etcdStore.ts');
      return EtcdStore.open(urls, opts.logger ? { logger: opts.logger } : {});
    }
    case 'kube': {
      const { KubeStore } = await import('./backends/kubeStore.ts');
      return KubeStore.open(opts.logger ? { logger: opts.logger } : {});
    }
    default:
      throw new ConfigError(`unknown store "${spec}": expected file:DIR, etcd:URL[,URL...] or kube`, { field: '--store' });
  }
}
