export async function installCniCommand(_argv: string[]): Promise<number> {
  throw new Error('"podnetctl install-cni" is not available in this build yet');
}
