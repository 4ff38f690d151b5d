/**
 * @module cni/podnetDeps — what the podnet verbs need from the outside, injected (tests pass fakes, a failure hook,
 * or a host namespace other than their own).
 */
import type { Dataplane } from './dataplane.ts';
import type { IpamClient } from './ipamClient.ts';
import type { NodeState } from '../ipam/nodeState.ts';

/** The points of an ADD where a test may inject a failure to prove the rollback. */
export type AddStep = 'after-ipam' | 'after-pod-side' | 'after-host-side' | 'after-masq';

export interface PodnetDeps {
  dataplane: Dataplane;
  ipamFor(type: string): IpamClient;
  readNodeState(path: string): NodeState | null;
  /** Test-only: called at each step of ADD; throwing there simulates a failure at that point. */
  failureHook?: (step: AddStep) => void | Promise<void>;
}
