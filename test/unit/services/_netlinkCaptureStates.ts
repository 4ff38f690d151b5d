/**
 * The two states of testdata/nft-netlink-captures.json (forward / backward): one service with 2 endpoints ⇄ an
 * endpoint moved, plus an affinity service and an LB service (ETP Local). Planned with ONE plan cache, as the
 * backend does, so the ports keep their dispatch slots across the change. Shared by nftNetlinkCodec.test.ts and
 * testdata/captureNftNetlink.ts (which re-records the capture).
 */
import { compileServiceModel } from '../../../src/services/serviceModel.ts';
import { planNftables, NftPlanCache } from '../../../src/services/nftables/nftPlanner.ts';
import type { Service } from '../../../src/store/types.ts';
import { svc, ep, slice } from './_modelFixtures.ts';

export const NODE = { name: 'node', nodePortIPs: ['198.18.0.11'] };
export const OPTS = { clusterCIDRs: ['10.244.0.0/16'], masqueradeAll: false };
export const tcp = [{ name: 'http', protocol: 'TCP' as const, port: 8080 }];
export const web = svc('web', { type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 }] });
const aff = svc('aff', { clusterIP: '10.96.0.30', sessionAffinity: 'ClientIP', ports: [{ name: 'http', protocol: 'UDP', port: 53, targetPort: 8080 }] });
const lb: Service = svc('lb', { type: 'LoadBalancer', clusterIP: '10.96.0.40', externalTrafficPolicy: 'Local', ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30090 }] },
  { status: { loadBalancer: { ingress: [{ ip: '198.51.100.7' }] } } });
export const e = (ip: string) => ep(ip, { nodeName: 'node' });

const cache = new NftPlanCache();
export const before = planNftables(compileServiceModel({ services: [web], slices: [slice('web', [e('10.244.1.2'), e('10.244.1.3')], { ports: tcp })], node: NODE }), 'ip', OPTS, cache);
export const after = planNftables(compileServiceModel({ services: [web, aff, lb], slices: [slice('web', [e('10.244.1.2'), e('10.244.1.4')], { ports: tcp }),
  slice('aff', [e('10.244.2.2')], { ports: [{ name: 'http', protocol: 'UDP', port: 8080 }] }), slice('lb', [e('10.244.3.2')], { ports: tcp })], node: NODE }), 'ip', OPTS, cache);
