import type { ConfigProblem } from './config-error.ts';
import { HOST_NAME_PATTERN, HOST_NAME_RULE } from './config-schema.ts';

export interface HostListEntry {
  name: string;
  uri: string;
}

/** Where a new entry starts: `name=` followed by a URI scheme. */
const ENTRY_START = /^([^=]+)=([A-Za-z][A-Za-z0-9+.-]*:.*)$/s;

/**
 * Reads the compact `name=uri,name2=uri2` list of VIRTQL_HOSTS. A URI may itself hold
 * commas (`sshauth=agent,privkey`), so a comma starts a new entry only when what follows
 * looks like `name=scheme:`; anything else continues the previous URI (and is then
 * checked as part of it).
 */
export function parseHostList(
  text: string,
  label = 'VIRTQL_HOSTS',
): { entries: HostListEntry[]; problems: ConfigProblem[] } {
  const entries: HostListEntry[] = [];
  const problems: ConfigProblem[] = [];
  for (const raw of text.split(',')) {
    const piece = raw.trim();
    if (piece === '') continue;
    const start = ENTRY_START.exec(piece);
    const previous = entries.at(-1);
    if (start === null) {
      if (previous !== undefined) previous.uri += `,${piece}`;
      else problems.push({ path: label, reason: `${JSON.stringify(piece)} is not name=uri` });
      continue;
    }
    const [, name = '', uri = ''] = start;
    if (!HOST_NAME_PATTERN.test(name.trim())) {
      problems.push({ path: label, reason: `${JSON.stringify(name.trim())} is not a host name (${HOST_NAME_RULE})` });
      continue;
    }
    entries.push({ name: name.trim(), uri });
  }
  return { entries, problems };
}
