import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BENCH_SECRETS } from './events.ts';

/**
 * A Secrets Manager stand-in on 127.0.0.1 for the cold-start runs in the AWS
 * configuration: with SECRET_ARN set, a handler's first request fetches the
 * secret through @aws-sdk/client-secrets-manager (loaded with `await import()`
 * on that first request), exactly as in AWS but against this endpoint
 * (AWS_ENDPOINT_URL_SECRETS_MANAGER). It answers every GetSecretValue with the
 * bench's fake secrets and counts the calls.
 */
export interface SecretsStandIn {
  endpoint: string;
  arn: string;
  calls: () => number;
  stop: () => Promise<void>;
}

export async function startSecretsStandIn(): Promise<SecretsStandIn> {
  let calls = 0;
  const arn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:voice-webhooks-bench-AbCdEf';
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      calls += 1;
      const target = req.headers['x-amz-target'];
      if (target !== 'secretsmanager.GetSecretValue') {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'InvalidRequestException', message: `unexpected ${String(target)}` }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ ARN: arn, Name: 'voice-webhooks-bench', VersionId: 'v1', SecretString: JSON.stringify(BENCH_SECRETS), CreatedDate: 1_700_000_000 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    arn,
    calls: () => calls,
    stop: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
