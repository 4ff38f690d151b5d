export async function ipamCommand(_argv: string[]): Promise<number> {
  throw new Error('"podnetctl ipam" is not available in this build yet');
}
