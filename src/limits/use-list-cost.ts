import type { ValidationContext, ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { limitExceeded } from './limit-errors.ts';
import { operationCost, recordedCost } from './operation-cost.ts';

export interface ListCostOptions {
  /** Largest cost an operation may have. */
  maxCost: number;
  /** How many items the model assumes each list field returns. */
  assumedListSize: number;
}

/**
 * A validation rule refusing operations whose estimated cost (operationCost) exceeds `maxCost`.
 * The cost it computes is kept for the document (costOf), so the `extensions.cost` of the
 * response tells the same number without computing it again.
 */
export function createListCostRule({ maxCost, assumedListSize }: ListCostOptions): ValidationRule {
  return (context: ValidationContext) => ({
    OperationDefinition(operation) {
      const cost = recordedCost(operation, assumedListSize, () =>
        operationCost(context.getSchema(), (name) => context.getFragment(name), operation, assumedListSize),
      );
      if (cost !== undefined && cost > maxCost) {
        context.reportError(
          limitExceeded(
            'maxCost',
            maxCost,
            `query cost ${cost.toPrecision(3)} exceeds the limit of ${maxCost} (each list field counts as ${assumedListSize} items)`,
            { cost },
          ),
        );
      }
    },
  });
}

/** Refuses, before execution, operations whose list-aware cost exceeds the limit. */
export function useListCost(options: ListCostOptions): Plugin {
  const rule = createListCostRule(options);
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(rule);
    },
  };
}
