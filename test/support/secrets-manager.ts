import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A Secrets Manager stand-in on 127.0.0.1, speaking enough of its JSON 1.1
 * protocol (X-Amz-Target GetSecretValue / PutSecretValue) for the real SDK
 * client, reached through AWS_ENDPOINT_URL_SECRETS_MANAGER. Its mode is the
 * fault: `ok` answers, `stall` reads the request and never answers (the
 * socket stays open), `error` answers 500 InternalServiceError.
 */
export type StandInMode = 'ok' | 'stall' | 'error';

export interface SecretsManagerStandIn {
  endpoint: string;
  arn: string;
  /** The stored SecretString (undefined: the secret has no value). */
  value: string | undefined;
  mode: StandInMode;
  /** Every request's target, in order (GetSecretValue, PutSecretValue). */
  calls: string[];
  /** Requests held open by `stall` mode right now. */
  stalled: () => number;
  stop: () => Promise<void>;
}

const readBody = (req: IncomingMessage) => new Promise<string>((resolve) => {
  let b = '';
  req.on('data', (c: Buffer) => { b += c.toString(); });
  req.on('end', () => resolve(b));
});

export async function startSecretsManager(value?: string): Promise<SecretsManagerStandIn> {
  const arn = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:WebhookSecret-abc';
  const held = new Set<ServerResponse>();
  const answer = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify(body));
  };
  const server: Server = createServer(async (req, res) => {
    const target = String(req.headers['x-amz-target']).split('.')[1] ?? '';
    const body = JSON.parse(await readBody(req)) as { SecretId?: string; SecretString?: string };
    standIn.calls.push(target);
    if (standIn.mode === 'stall') {
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    if (standIn.mode === 'error') { answer(res, 500, { __type: 'InternalServiceError', message: 'stand-in failure' }); return; }
    if (body.SecretId !== arn) { answer(res, 400, { __type: 'ResourceNotFoundException', message: 'Secrets Manager can\'t find the specified secret.' }); return; }
    if (target === 'PutSecretValue') {
      standIn.value = body.SecretString;
      answer(res, 200, { ARN: arn, Name: 'WebhookSecret-abc', VersionId: `v${standIn.calls.length}` });
      return;
    }
    if (target !== 'GetSecretValue') { answer(res, 400, { __type: 'InvalidRequestException', message: `unexpected ${target}` }); return; }
    answer(res, 200, { ARN: arn, Name: 'WebhookSecret-abc', VersionId: 'v1', ...(standIn.value !== undefined ? { SecretString: standIn.value } : {}), CreatedDate: 1_700_000_000 });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const standIn: SecretsManagerStandIn = {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arn,
    value,
    mode: 'ok',
    calls: [],
    stalled: () => held.size,
    stop: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
  return standIn;
}
