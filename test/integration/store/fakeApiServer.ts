/**
 * A local HTTP server that speaks the part of the Kubernetes API protocol podnet's kube store uses, because no
 * API server can be installed on this machine: paged lists with a collection resourceVersion (items without
 * kind/apiVersion, as the API returns them), chunked watch streams (one JSON event per line) with BOOKMARK
 * events, a 410 Gone ERROR event for a version older than the retained history, POST/PUT/DELETE with 409
 * AlreadyExists/Conflict and 404, and delete preconditions. It does not validate objects (so tests can plant
 * bad ones) and knows nothing of RBAC, field selectors or server-side apply.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

interface Obj { kind?: string; apiVersion?: string; metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string } }
interface Ev { rv: number; resource: string; type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: Obj }
interface Route { resource: string; namespace?: string; name?: string }

export class FakeApiServer {
  #server: Server;
  #rv = 100;
  #objects = new Map<string, Map<string, Obj>>(); // resource → ns/name → object
  #log: Ev[] = [];
  #oldest = 0;
  #watches = new Set<{ res: ServerResponse; route: Route; timer: NodeJS.Timeout }>();
  port = 0;
  /** Count of watch requests served (tests check that the client re-watches). */
  watchRequests = 0;
  /** Count of list requests served (a relist shows up here). */
  listRequests = 0;

  constructor() {
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: Error) => this.#status(res, 500, 'InternalError', err.message));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    this.port = (this.#server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const w of this.#watches) { clearInterval(w.timer); w.res.destroy(); }
    this.#server.closeAllConnections();
    await new Promise((r) => this.#server.close(r));
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: `http://127.0.0.1:${this.port}`, skipTLSVerify: true }],
      users: [{ name: 'podnet', token: 'test-token' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'podnet' }],
      currentContext: 'fake',
    });
    return kc;
  }

  /** Forget the event history: watches from older versions get a 410 Gone ERROR event. */
  compact(): void {
    this.#log = [];
    this.#oldest = this.#rv;
  }

  /** Send every open watch a 410 ERROR event and close it (what an API server does after etcd compaction). */
  expireWatches(): void {
    for (const w of [...this.#watches]) this.#endWatch(w, { type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } });
  }

  /** Close every watch stream normally (API servers do so every few minutes). */
  closeWatches(): void {
    for (const w of [...this.#watches]) this.#endWatch(w);
  }

  /** Store an object without validation (a bad object someone else wrote). */
  plant(resource: string, obj: Obj): void {
    this.#put(resource, obj, 'ADDED');
  }

  #bucket(resource: string): Map<string, Obj> {
    let b = this.#objects.get(resource);
    if (!b) this.#objects.set(resource, (b = new Map()));
    return b;
  }

  #put(resource: string, obj: Obj, type: Ev['type']): Obj {
    this.#rv += 1;
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(this.#rv);
    const key = `${stored.metadata.namespace ?? ''}/${stored.metadata.name}`;
    if (type === 'DELETED') this.#bucket(resource).delete(key);
    else this.#bucket(resource).set(key, stored);
    const ev: Ev = { rv: this.#rv, resource, type, object: stored };
    this.#log.push(ev);
    for (const w of this.#watches) this.#send(w, ev);
    return stored;
  }

  #send(w: { res: ServerResponse; route: Route }, ev: Ev): void {
    if (ev.resource !== w.route.resource || (w.route.namespace && ev.object.metadata.namespace !== w.route.namespace)) return;
    w.res.write(`${JSON.stringify({ type: ev.type, object: ev.object })}\n`);
  }

  #endWatch(w: { res: ServerResponse; timer: NodeJS.Timeout }, last?: unknown): void {
    clearInterval(w.timer);
    this.#watches.delete(w as never);
    if (last) w.res.write(`${JSON.stringify(last)}\n`);
    w.res.end();
  }

  #route(path: string): Route | undefined {
    const p = path.split('/').filter(Boolean);
    const rest = p[0] === 'api' ? p.slice(2) : p[0] === 'apis' ? p.slice(3) : undefined;
    if (!rest) return undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) return { namespace: rest[1]!, resource: rest[2]!, ...(rest[3] ? { name: rest[3] } : {}) };
    return { resource: rest[0]!, ...(rest[1] ? { name: rest[1] } : {}) };
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const route = this.#route(url.pathname);
    if (!route) return this.#status(res, 404, 'NotFound', `no route ${url.pathname}`);
    if (req.headers.authorization !== 'Bearer test-token') return this.#status(res, 401, 'Unauthorized', 'bad token');
    const body = await readBody(req);
    const key = `${route.namespace ?? ''}/${route.name ?? ''}`;
    const current = route.name ? this.#bucket(route.resource).get(key) : undefined;
    switch (req.method) {
      case 'GET':
        if (route.name) return current ? this.#json(res, 200, current) : this.#status(res, 404, 'NotFound', `${route.resource} "${route.name}" not found`);
        if (url.searchParams.get('watch') === 'true') return this.#watch(res, route, url.searchParams);
        return this.#list(res, route, url.searchParams);
      case 'POST': {
        const obj = body as Obj;
        const k = `${route.namespace ?? ''}/${obj.metadata.name}`;
        if (this.#bucket(route.resource).has(k)) return this.#status(res, 409, 'AlreadyExists', `${route.resource} "${obj.metadata.name}" already exists`);
        obj.metadata.uid ??= `uid-${this.#rv}`;
        if (route.namespace) obj.metadata.namespace = route.namespace;
        return this.#json(res, 201, this.#put(route.resource, obj, 'ADDED'));
      }
      case 'PUT': {
        const obj = body as Obj;
        if (!current) return this.#status(res, 404, 'NotFound', `${route.resource} "${route.name}" not found`);
        const want = obj.metadata.resourceVersion;
        if (want && want !== current.metadata.resourceVersion) return this.#status(res, 409, 'Conflict', 'the object has been modified');
        return this.#json(res, 200, this.#put(route.resource, obj, 'MODIFIED'));
      }
      case 'DELETE': {
        if (!current) return this.#status(res, 404, 'NotFound', `${route.resource} "${route.name}" not found`);
        const want = (body as { preconditions?: { resourceVersion?: string } } | undefined)?.preconditions?.resourceVersion;
        if (want && want !== current.metadata.resourceVersion) return this.#status(res, 409, 'Conflict', 'precondition failed');
        this.#put(route.resource, current, 'DELETED');
        return this.#status(res, 200, 'Success', 'deleted');
      }
      default:
        return this.#status(res, 405, 'MethodNotAllowed', String(req.method));
    }
  }

  #list(res: ServerResponse, route: Route, q: URLSearchParams): void {
    this.listRequests += 1;
    const all = [...this.#bucket(route.resource).values()]
      .filter((o) => !route.namespace || o.metadata.namespace === route.namespace)
      .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
    const limit = Number(q.get('limit') ?? '0') || all.length;
    const start = Number(q.get('continue') ?? '0');
    const page = all.slice(start, start + limit).map((o) => {
      const { kind: _k, apiVersion: _a, ...rest } = o; // the API omits these on list items
      return rest;
    });
    const more = start + limit < all.length;
    this.#json(res, 200, { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(this.#rv), ...(more ? { continue: String(start + limit) } : {}) }, items: page });
  }

  #watch(res: ServerResponse, route: Route, q: URLSearchParams): void {
    this.watchRequests += 1;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    const from = Number(q.get('resourceVersion') ?? '0');
    const bookmarks = q.get('allowWatchBookmarks') === 'true';
    const timer = setInterval(() => {
      if (bookmarks) res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { kind: 'Bookmark', metadata: { resourceVersion: String(this.#rv) } } })}\n`);
    }, 200);
    const w = { res, route, timer };
    if (from < this.#oldest) {
      this.#endWatch(w, { type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: `too old resource version: ${from} (${this.#oldest})` } });
      return;
    }
    for (const ev of this.#log) if (ev.rv > from) this.#send(w, ev);
    this.#watches.add(w);
    res.on('close', () => { clearInterval(timer); this.#watches.delete(w); });
  }

  #json(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  #status(res: ServerResponse, code: number, reason: string, message: string): void {
    this.#json(res, code, { kind: 'Status', apiVersion: 'v1', status: code < 300 ? 'Success' : 'Failure', code, reason, message });
  }
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  if (chunks.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}
