import { PRIVILEGES, type Privilege } from '../../auth/privileges.ts';
import { builder } from '../core/builder.ts';

/** The GraphQL name of a privilege: `VM.PowerMgmt` is VM_POWER_MGMT (GraphQL names have no dots). */
export function privilegeEnumName(privilege: Privilege): string {
  return privilege
    .split('.')
    .map((part) => part.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase())
    .join('_');
}

/** Every privilege, from the one list the roles and the checks use (src/auth/privileges.ts). */
export const PrivilegeEnum = builder.enumType('Privilege', {
  description:
    'A privilege a role gives (shared/operations.md, "Who may call what"); the config names it with its dot: VM_POWER_MGMT is `VM.PowerMgmt`.',
  values: Object.fromEntries(
    PRIVILEGES.map((p) => [privilegeEnumName(p), { value: p, description: `\`${p}\` in a role of the config.` }]),
  ) as Record<string, { value: Privilege; description: string }>,
});
