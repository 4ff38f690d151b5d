/**
 * podnet-ipam — host-local compatible IPAM plugin (CNI spec 1.1.0). Invoked by a CNI plugin (the reference bridge
 * or ptp, or podnet with a non-default setup) with CNI_* variables and the network config on stdin.
 */
import { runCniExecutable } from '../../src/cni/cniExecutable.ts';
import { ipamCniPlugin } from '../../src/ipam/ipamCniPlugin.ts';

runCniExecutable(() => ipamCniPlugin());
