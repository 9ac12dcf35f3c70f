import { globPattern } from '../auth/glob.ts';
import type { ConfigProblem } from './config-error.ts';
import type { AuthConfig } from './security-schema.ts';

/**
 * What the grants name, checked against what exists. An identity or group no credential carries
 * is refused: a typo there silently grants nothing, or waits for a later token of that name to be
 * granted more than meant. With a JWT issuer configured, identities and groups also come from
 * its tokens, which the gateway cannot list: then they are accepted. A host glob that matches no
 * configured host is only a warning (the host may be added later), as it is not a grant given away.
 */
export function checkGrants(
  auth: AuthConfig,
  hostNames: readonly string[],
): { problems: ConfigProblem[]; warnings: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const credentials = [...auth.tokens, ...auth.certificates];
  const identities = new Set(credentials.map((c) => c.name));
  const groups = new Set(credentials.flatMap((c) => c.groups));
  const open = auth.jwt !== undefined;
  auth.grants.forEach((grant, i) => {
    const at = `auth.grants[${i}]`;
    if (!open && grant.identity !== undefined && !identities.has(grant.identity)) {
      problems.push({
        path: `${at}.identity`,
        reason: `no token or certificate is named ${JSON.stringify(grant.identity)}${known(identities)}`,
      });
    }
    if (!open && grant.group !== undefined && !groups.has(grant.group)) {
      problems.push({
        path: `${at}.group`,
        reason: `no token or certificate is in the group ${JSON.stringify(grant.group)}${known(groups)}`,
      });
    }
    grant.hosts.forEach((glob, j) => {
      const pattern = globPattern(glob);
      if (!hostNames.some((h) => pattern.test(h))) {
        warnings.push({
          path: `${at}.hosts[${j}]`,
          reason: `${JSON.stringify(glob)} matches no configured host (${hostNames.join(', ')})`,
        });
      }
    });
  });
  return { problems, warnings };
}

function known(names: ReadonlySet<string>): string {
  return names.size === 0 ? ' (none configured)' : ` (configured: ${[...names].sort().join(', ')})`;
}
