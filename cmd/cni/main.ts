/**
 * podnet — the CNI plugin. Invoked by the container runtime: CNI_* variables, network config on stdin, result on
 * stdout (CNI spec 1.1.0). See src/cni/README.md.
 */
import { runCniExecutable } from '../../src/cni/cniExecutable.ts';
import { podnetPlugin } from '../../src/cni/podnetPlugin.ts';

runCniExecutable(() => podnetPlugin());
