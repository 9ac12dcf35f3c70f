/** A libvirt or hypervisor version, decoded from libvirt's major * 1,000,000 + minor * 1,000 + release. */
export interface Version {
  major: number;
  minor: number;
  release: number;
  /** The number as libvirt encodes it. */
  encoded: number;
  /** "major.minor.release". */
  text: string;
}

export function parseVersion(encoded: number): Version {
  const major = Math.floor(encoded / 1_000_000);
  const minor = Math.floor((encoded % 1_000_000) / 1_000);
  const release = encoded % 1_000;
  return { major, minor, release, encoded, text: `${major}.${minor}.${release}` };
}
