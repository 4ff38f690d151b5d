/**
 * @module store/backends/kubeRest — the Kubernetes REST paths of podnet's kinds and one JSON request helper on top
 * of @kubernetes/client-node's KubeConfig (which supplies the server, CA, client certificate or token, for
 * in-cluster service accounts and KUBECONFIG alike). HTTP statuses map to the store's errors.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { KINDS, type KindName } from '../types.ts';
import { AlreadyExistsError, ConflictError, ExpiredError, InvalidObjectError, NotFoundError, StoreUnavailableError, resourceName } from '../storeErrors.ts';

/** `/api/v1/namespaces/default/services[/web]`, `/apis/discovery.k8s.io/v1/endpointslices`, ... */
export function kubePath(kind: KindName, namespace?: string, name?: string): string {
  const { apiVersion, namespaced } = KINDS[kind];
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const ns = namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${resourceName(kind)}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

export interface KubeStatus { kind?: string; code?: number; reason?: string; message?: string }

export class KubeRest {
  readonly kc: KubeConfig;
  readonly server: string;

  constructor(kc: KubeConfig) {
    this.kc = kc;
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new StoreUnavailableError('kube store: the kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/$/, '');
  }

  /** One JSON request; resolves with the parsed body of a 2xx answer, otherwise throws the matching store error. */
  async json<T>(method: string, path: string, body?: unknown, what?: { kind: KindName; name: string }): Promise<T> {
    const url = new URL(this.server + path);
    const opts: RequestOptions = { method, headers: { Accept: 'application/json' } };
    await this.kc.applyToHTTPSOptions(opts);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    if (payload) opts.headers = { ...opts.headers, 'Content-Type': 'application/json', 'Content-Length': String(payload.length) };
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.setTimeout(15_000, () => req.destroy(new Error('request timed out after 15 s')));
      req.on('error', reject);
      req.end(payload);
    }).catch((err: Error) => {
      throw new StoreUnavailableError(`kube API ${this.server}: ${method} ${path}: ${err.message}`, { cause: err });
    });
    const parsed = text ? safeJson(text) : undefined;
    if (status >= 200 && status < 300) return parsed as T;
    throw statusError(status, (parsed ?? {}) as KubeStatus, method, path, what);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 200) };
  }
}

export function statusError(status: number, s: KubeStatus, method: string, path: string, what?: { kind: KindName; name: string }): Error {
  const kind = what?.kind;
  const name = what?.name ?? path.split('/').pop() ?? '?';
  if (status === 404 && kind) return new NotFoundError(kind, name);
  if (status === 409 && kind) return s.reason === 'AlreadyExists' ? new AlreadyExistsError(kind, name) : new ConflictError(kind, name);
  if (status === 410) return new ExpiredError(s.message ?? 'resourceVersion too old (410 Gone)');
  if (status === 422 && kind) return new InvalidObjectError(kind, name, [s.message ?? 'rejected by the API server']);
  return new StoreUnavailableError(`kube API: ${method} ${path}: HTTP ${status}${s.message ? `: ${s.message}` : ''}`);
}
