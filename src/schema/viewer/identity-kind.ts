import { lowerCaseEnum } from '../core/enum-types.ts';

/** How a caller authenticated: `viewer.identity.kind` and the audit log's `identity.kind`. */
export const IdentityKindEnum = lowerCaseEnum('IdentityKind', 'How the caller authenticated.', {
  TOKEN: 'An API token of the config.',
  JWT: 'A JSON Web Token from the configured issuer.',
  CERTIFICATE: 'A TLS client certificate.',
  ANONYMOUS: 'No authentication is configured (development on loopback): the caller holds every privilege.',
});
