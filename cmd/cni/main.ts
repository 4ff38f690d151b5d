/**
 * podnet — the CNI plugin. Invoked by the container runtime: CNI_* variables, network config on stdin, result on
 * stdout (CNI spec 1.1.0).
 */
process.stdout.write(`${JSON.stringify({ cniVersion: '1.1.0', code: 999, msg: 'the podnet CNI plugin is not available in this build yet' })}\n`);
process.exitCode = 1;
