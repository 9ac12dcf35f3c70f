import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { type GraphQLError, MaxIntrospectionDepthRule, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { type LimitName, limitExceeded } from './limit-errors.ts';

export interface ArmorOptions {
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
}

/**
 * graphql-armor's depth, alias and token limits, its errors turned into LIMIT_EXCEEDED naming
 * the limit. Armor's cost limit stays off: useListCost replaces it (see there why). Its field
 * suggestion blocking stays off too: the schema is public (introspection, the printed SDL).
 */
export function useArmor({ maxDepth, maxAliases, maxTokens }: ArmorOptions): Plugin {
  const reject =
    (limit: LimitName, max: number) =>
    (context: ValidationContext | null, error: GraphQLError): void => {
      const mapped = limitExceeded(limit, max, error.message.replace(/^Syntax Error: /, ''));
      // The token limit runs while parsing, where there is no validation context to report to.
      if (!context) throw mapped;
      context.reportError(mapped);
    };
  return {
    onPluginInit({ addPlugin }) {
      addPlugin(
        EnvelopArmorPlugin({
          maxDepth: { n: maxDepth, onReject: [reject('maxDepth', maxDepth)], propagateOnRejection: false },
          maxAliases: { n: maxAliases, onReject: [reject('maxAliases', maxAliases)], propagateOnRejection: false },
          maxTokens: { n: maxTokens, onReject: [reject('maxTokens', maxTokens)], propagateOnRejection: false },
          costLimit: { enabled: false },
          blockFieldSuggestion: { enabled: false },
          // Directives are tokens: the token limit bounds them.
          maxDirectives: { enabled: false },
        }),
      );
    },
    onValidate({ addValidationRule }) {
      addValidationRule(MaxIntrospectionDepthRule);
    },
  };
}
