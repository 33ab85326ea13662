import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { ReadWriteType, Trail } from 'aws-cdk-lib/aws-cloudtrail';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Key } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket } from 'aws-cdk-lib/aws-s3';
import { Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeCompliance } from './nag.ts';

/**
 * Optional (context auditTrail=true): a CloudTrail trail of S3 data events on
 * the recordings bucket — every GetObject, PutObject and DeleteObject with the
 * caller's identity — so reads of recordings and personal data are audited.
 * Its log files go to a bucket of their own (encrypted with the stack's key,
 * versioned, TLS only, retained, kept `retentionDays` when the stage has one).
 * Management events are not recorded here: the account's own trail does that.
 */

export interface AuditTrailProps {
  bucket: IBucket;
  key: Key;
  /** Days trail logs are kept; undefined: forever. */
  retentionDays: number | undefined;
}

export class AuditTrail extends Construct {
  readonly trail: Trail;
  readonly logBucket: Bucket;

  constructor(scope: Construct, id: string, props: AuditTrailProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.logBucket = new Bucket(this, 'Logs', {
      encryption: BucketEncryption.KMS,
      encryptionKey: props.key,
      bucketKeyEnabled: true,
      versioned: true,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{
        id: 'trail-logs',
        ...(props.retentionDays !== undefined ? { expiration: Duration.days(props.retentionDays) } : {}),
        noncurrentVersionExpiration: Duration.days(30),
      }],
    });
    // CloudTrail encrypts its log files with the stack's key, for trails of this account only.
    props.key.addToResourcePolicy(new PolicyStatement({
      principals: [new ServicePrincipal('cloudtrail.amazonaws.com')],
      actions: ['kms:GenerateDataKey*', 'kms:DescribeKey'],
      resources: ['*'],
      conditions: { StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': `arn:${stack.partition}:cloudtrail:*:${stack.account}:trail/*` } },
    }));
    this.trail = new Trail(this, 'Trail', {
      bucket: this.logBucket,
      encryptionKey: props.key,
      enableFileValidation: true,
      isMultiRegionTrail: false,
      includeGlobalServiceEvents: false,
      managementEvents: ReadWriteType.NONE,
      sendToCloudWatchLogs: false,
    });
    this.trail.addS3EventSelector([{ bucket: props.bucket }], { readWriteType: ReadWriteType.ALL, includeManagementEvents: false });
    this.trail.node.addDependency(props.key);

    acknowledgeCompliance(this.trail, 'CloudTrailCloudWatchLogsEnabled', 'Data events of one bucket are read with Athena or the CloudTrail console when an access must be explained; streaming every GetObject/PutObject to CloudWatch Logs as well would double the cost of the trail for no alarm that needs it.');
    acknowledgeCompliance(this.logBucket, 'S3BucketLoggingEnabled', 'This bucket holds the audit trail itself; access logs of the audit log would need yet another bucket, and writes to it come only from CloudTrail.');
    acknowledgeCompliance(this.logBucket, 'S3BucketReplicationEnabled', 'Versioned and retained; a cross-region copy of the audit trail is the data owner\'s choice, as for the recordings bucket (docs/deploy.md).');
    Validations.of(this.logBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket holds the CloudTrail audit trail of the recordings bucket; server access logs of it would need another bucket and record only CloudTrail\'s own writes.',
    });
  }
}
