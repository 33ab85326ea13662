import { SecretsManagerClient, GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import * as v from 'valibot';
import { fillSecret, parseSecret } from './fill.ts';

/**
 * Custom resource (Lambda-backed, no provider framework): fills the webhook
 * secret's missing tokens on Create and Update, does nothing on Delete (the
 * secret itself is retained). It answers CloudFormation through the
 * pre-signed ResponseURL and never returns or logs a secret value.
 */

const EventSchema = v.object({
  RequestType: v.picklist(['Create', 'Update', 'Delete']),
  ResponseURL: v.pipe(v.string(), v.url()),
  StackId: v.string(),
  RequestId: v.string(),
  LogicalResourceId: v.string(),
  PhysicalResourceId: v.optional(v.string()),
  ResourceProperties: v.object({ SecretArn: v.string() }),
});

const sm = new SecretsManagerClient({});

async function respond(event: v.InferOutput<typeof EventSchema>, status: 'SUCCESS' | 'FAILED', reason?: string): Promise<void> {
  const body = JSON.stringify({
    Status: status,
    Reason: reason ?? status,
    PhysicalResourceId: event.PhysicalResourceId ?? `fill-${event.LogicalResourceId}`,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    NoEcho: true,
  });
  const res = await fetch(event.ResponseURL, { method: 'PUT', body, headers: { 'content-type': '' } });
  if (!res.ok) throw new Error(`CloudFormation response failed with HTTP ${res.status}`);
}

export const handler = async (raw: unknown): Promise<void> => {
  const parsed = v.safeParse(EventSchema, raw);
  if (!parsed.success) {
    // Without a valid ResponseURL there is no one to answer; CloudFormation would time out.
    console.log(JSON.stringify({ level: 'error', msg: 'not a CloudFormation custom resource event', issues: parsed.issues.map((i) => i.message) }));
    throw new Error('not a CloudFormation custom resource event');
  }
  const event = parsed.output;
  try {
    if (event.RequestType !== 'Delete') {
      const secretId = event.ResourceProperties.SecretArn;
      const current = await sm.send(new GetSecretValueCommand({ SecretId: secretId }));
      const { value, added } = fillSecret(parseSecret(current.SecretString));
      if (added.length > 0) {
        await sm.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: JSON.stringify(value) }));
      }
      console.log(JSON.stringify({ level: 'info', msg: 'webhook secret checked', added }));
    }
    await respond(event, 'SUCCESS');
  } catch (err) {
    console.log(JSON.stringify({ level: 'error', msg: 'filling the webhook secret failed', errorName: err instanceof Error ? err.name : typeof err }));
    await respond(event, 'FAILED', `filling the webhook secret failed: ${err instanceof Error ? err.name : 'error'}`);
  }
};
