/**
 * @module controller/controllerAgentPart — the endpoints controller as a part of `podnetd agent`: one leader per
 * cluster (a store lease), which derives EndpointSlices and allocates ClusterIPs and NodePorts. Off with the kube
 * store, where the API server's own controllers do that work, and with `controller.enabled: false`.
 */
import type { AgentPart } from '../common/agentPart.ts';
import { describeError } from '../common/errors.ts';
import { EndpointsController } from './endpointsController.ts';
import { LeaderElector } from './leaderElector.ts';

/** `kube` and `kube:...` name the API server store (src/store/openStore.ts). */
const isKubeStore = (spec: string) => spec === 'kube' || spec.startsWith('kube:');

export function controllerAgentPart(): AgentPart {
  let elector: LeaderElector | undefined;
  let controller: EndpointsController | undefined;
  return {
    name: 'controller',
    enabled: (c, store) => c.controller.enabled && !isKubeStore(store),
    async start({ store, nodeName, config: c, logger }) {
      if (store.backend === 'kube' || !c.controller.enabled) {
        logger.info({ event: 'controllerOff' }, store.backend === 'kube' ? 'endpoints controller off: the API server does this' : 'endpoints controller disabled');
        return;
      }
      elector = new LeaderElector({
        store, leaseName: 'podnet-endpoints-controller', identity: `${nodeName}/${process.pid}`, ttlSeconds: c.controller.leaseTTLSeconds, logger,
        onStartedLeading: () => {
          controller = new EndpointsController({ store, serviceCIDR: c.serviceCIDR, serviceCIDRs: c.serviceCIDRs, nodePortRange: c.controller.nodePortRange, reserved: [c.clusterDNS], logger });
          controller.start().catch((err) => logger.error({ event: 'controllerFailed', err: describeError(err) }, 'endpoints controller failed to start'));
        },
        onStoppedLeading: () => { void controller?.stop(); controller = undefined; },
      });
      elector.start();
    },
    async stop() { await elector?.stop(); await controller?.stop(); },
  };
}
