import { Stack, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Effect, ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Bucket, CfnBucket } from 'aws-cdk-lib/aws-s3';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { acknowledgeCompliance } from './nag.ts';
import { LEGACY_INDEX_NAMES, TABLE_SCHEMA } from '#shared/table';

/** Prefixes erasure may delete under; receipts/ is only ever written. */
export const ERASABLE_PREFIXES = ['raw/', 'audio/'] as const;
export const RECEIPTS_PREFIX = 'receipts/';

/** What `calls forget` and `calls hold` do to S3, per object of a call (docs/compliance.md). */
export const ERASURE_OBJECT_ACTIONS = [
  's3:DeleteObject',
  's3:DeleteObjectVersion',
  's3:GetObjectLegalHold',
  's3:PutObjectLegalHold',
  's3:GetObjectRetention',
] as const;

export interface ErasureOperatorProps {
  bucket: Bucket;
  table: Table;
  /** The stack's customer managed key (bucket, table, receipt key). */
  encryptionKey: IKey;
}

/**
 * Erasure and legal holds run with a person's own credentials, never with the
 * webhook functions' (which can only put). This construct is what that person
 * needs, as a managed policy to attach to their user, group or role:
 * list the bucket's versions, delete and hold objects under raw/ and audio/,
 * write receipts, query/update/delete index items, read the receipt key and
 * the stack's outputs. Bypassing a governance-mode retention is denied
 * outright: a locked version is refused, not forced.
 *
 * The receipt key salts the phone hashes in erasure receipts; only the
 * operator can read it, so a receipt alone does not reveal whose number it was.
 */
export class ErasureOperator extends Construct {
  readonly policy: ManagedPolicy;
  readonly receiptKey: Secret;

  constructor(scope: Construct, id: string, props: ErasureOperatorProps) {
    super(scope, id);
    const { bucket, table, encryptionKey } = props;
    const stack = Stack.of(this);

    this.receiptKey = new Secret(this, 'ReceiptKey', {
      description: `Key of the salted phone hashes in erasure receipts (${stack.stackName})`,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledgeCompliance(this.receiptKey, 'SecretsManagerRotationEnabled', 'Rotating the receipt key would make earlier erasure receipts unverifiable (see AwsSolutions-SMG4 above).');
    Validations.of(this.receiptKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'Rotating the receipt key would make earlier receipts unverifiable: a phone number could no longer be matched to the hash recorded when it was erased.',
    });

    this.policy = new ManagedPolicy(this, 'Policy', {
      description: `Erasure operator for ${stack.stackName}: calls forget / calls hold (docs/compliance.md)`,
      statements: [
        new PolicyStatement({
          sid: 'ListVersionsAndLockState',
          actions: ['s3:ListBucket', 's3:ListBucketVersions', 's3:GetBucketVersioning', 's3:GetBucketObjectLockConfiguration'],
          resources: [bucket.bucketArn],
        }),
        new PolicyStatement({
          sid: 'EraseAndHoldCallObjects',
          actions: [...ERASURE_OBJECT_ACTIONS],
          resources: ERASABLE_PREFIXES.map((p) => bucket.arnForObjects(`${p}*`)),
        }),
        new PolicyStatement({
          sid: 'WriteReceipts',
          actions: ['s3:PutObject'],
          resources: [bucket.arnForObjects(`${RECEIPTS_PREFIX}*`)],
        }),
        new PolicyStatement({
          sid: 'NeverBypassObjectLock',
          effect: Effect.DENY,
          actions: ['s3:BypassGovernanceRetention'],
          resources: [bucket.arnForObjects('*')],
        }),
        new PolicyStatement({
          sid: 'IndexItems',
          // DescribeTable: which phone index is complete (the slim one, or the legacy one mid-migration).
          actions: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:DescribeTable'],
          resources: [table.tableArn, ...[TABLE_SCHEMA.indexes.byPhone.indexName, LEGACY_INDEX_NAMES.byPhone].map((name) => `${table.tableArn}/index/${name}`)],
        }),
        new PolicyStatement({
          sid: 'ReceiptKey',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [this.receiptKey.secretArn],
        }),
        new PolicyStatement({
          // The bucket, table and receipt key are encrypted with the stack's key: only through those services.
          sid: 'DataKeyViaServices',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': ['s3', 'dynamodb', 'secretsmanager'].map((svc) => `${svc}.${stack.region}.amazonaws.com`) } },
        }),
        new PolicyStatement({
          sid: 'StackOutputs',
          actions: ['cloudformation:DescribeStacks'],
          resources: [stack.stackId],
        }),
      ],
    });
    const bucketId = stack.getLogicalId(bucket.node.defaultChild as CfnBucket);
    for (const prefix of [...ERASABLE_PREFIXES, RECEIPTS_PREFIX]) {
      Validations.of(this.policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`,
        reason: `The operator acts on whichever call is being erased or held, so the object is any key under ${prefix}; the actions are only those erasure and holds need.`,
      });
    }
  }
}
