import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** The compliance packs that share rule names (cdk-nag prefixes each rule with its pack). */
export const COMPLIANCE_PACKS = ['HIPAA.Security', 'NIST.800.53.R5'] as const;

/**
 * Acknowledges one finding of the HIPAA Security and NIST 800-53 rev 5 packs
 * (the same rule in both) on a construct, with the reason this stack has for it.
 */
export function acknowledgeCompliance(scope: IConstruct, rule: string, reason: string): void {
  for (const pack of COMPLIANCE_PACKS) Validations.of(scope).acknowledge({ id: `${pack}-${rule}`, reason });
}
