// The acknowledgements recorded in a construct tree (Validations.of(…).acknowledge, infra/review-findings.ts).
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** One rule acknowledged on one construct (and everything under it). */
export interface Acknowledgement {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

const recordedOn = (construct: IConstruct): Acknowledgement[] =>
  construct.node.metadata
    .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
    .map(([key, reason]) => ({ path: construct.node.path, id: key.replace(/^annotation::/i, ''), reason }));

/** Every acknowledgement recorded on the scope or below it. */
export function acknowledgementsIn(scope: IConstruct): Acknowledgement[] {
  return scope.node.findAll().flatMap(recordedOn);
}

/** The reason a rule id was acknowledged with on a construct or one of its scopes, if it was. */
export function acknowledgementOf(construct: IConstruct | undefined, id: string): string | undefined {
  for (let current = construct; current; current = current.node.scope) {
    const found = recordedOn(current).find((acknowledgement) => acknowledgement.id === id);
    if (found) return found.reason;
  }
  return undefined;
}

/** Whether a finding at `path` is one the acknowledgement covers (on its construct or one under it). */
export const covers = (acknowledgement: Acknowledgement, path: string) => path === acknowledgement.path || path.startsWith(`${acknowledgement.path}/`);
