import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { withGatewayCode } from '../schema/core/errors.ts';

/**
 * Parse and validation errors never reach yoga's maskError, and graphql-js gives them no code
 * (yoga adds GRAPHQL_PARSE_FAILED / GRAPHQL_VALIDATION_FAILED). Here they get the gateway's
 * INVALID_INPUT like every other malformed request, with a bounded message; codes the gateway
 * gave (LIMIT_EXCEEDED from the token and depth limits…) stay.
 */
export function useInputErrorCodes(): Plugin {
  return {
    onParse() {
      return ({ result, replaceParseResult }) => {
        if (result instanceof GraphQLError) replaceParseResult(withGatewayCode(result));
      };
    },
    onValidate() {
      return ({ valid, result, setResult }) => {
        if (!valid) setResult(result.map((e) => (e instanceof GraphQLError ? withGatewayCode(e) : e)));
      };
    },
  };
}
