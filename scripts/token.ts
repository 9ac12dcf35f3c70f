// Prints a new API token for the identity NAME (npm run token -- NAME): the secret once, and the config lines to paste.
import { createApiToken } from '../src/auth/authenticator.ts';

const NAME = /^[A-Za-z0-9._@-]{1,64}$/;
const name = process.argv[2];

if (process.argv.length !== 3 || name === undefined || !NAME.test(name)) {
  console.error(
    name === undefined
      ? 'usage: npm run token -- NAME (the identity the token authenticates, e.g. ci-deploy)'
      : `npm run token: ${JSON.stringify(process.argv.slice(2).join(' '))} is not a valid NAME: use 1 to 64 letters, digits, ".", "_", "@" or "-"`,
  );
  process.exit(2);
}

const { secret, sha256 } = createApiToken();
console.log(`Token for ${name} (shown only now; the gateway keeps only its SHA-256 digest):

  ${secret}

Send it as: Authorization: Bearer ${secret}
(graphql-ws: connectionParams { authorization: "Bearer …" })

Add to the config file (auth:), then send SIGHUP or restart the gateway:

auth:
  tokens:
    - name: ${JSON.stringify(name)}
      sha256: ${sha256}
  grants:
    - identity: ${JSON.stringify(name)}
      role: viewer # viewer | operator | admin, or a role of your own
      hosts: ['*']
`);
