/**
 * podnet-ipam — host-local compatible IPAM plugin (CNI spec 1.1.0).
 */
process.stdout.write(`${JSON.stringify({ cniVersion: '1.1.0', code: 999, msg: 'the podnet-ipam plugin is not available in this build yet' })}\n`);
process.exitCode = 1;
