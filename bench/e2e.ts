import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { TABLE_SCHEMA, callPk } from '#shared/table';
import { createLocalServer } from '../lib/local-server.ts';
import { percentile } from './lib/stats.ts';

/**
 * End to end through the local server (lib/local-server.ts, the one `npm start`
 * runs): concurrent mixed deliveries over loopback HTTP, the real handlers,
 * the embedded S3 and DynamoDB. Every delivery has its own id, so none is a
 * duplicate; afterwards each one is looked up in the table (zero loss means
 * every delivery answered 2xx AND its item is there).
 */

export interface Delivery {
  source: string;
  callId: string;
  event: APIGatewayProxyEventV2;
}

export interface E2eResult {
  deliveries: number;
  concurrency: number;
  wallMs: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  statuses: Record<string, number>;
  stored: number;
  lost: number;
  bySource: Record<string, { n: number; p50Ms: number; p99Ms: number }>;
}

function requestOf(base: string, event: APIGatewayProxyEventV2): { url: string; init: RequestInit } {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) if (v !== undefined && k !== 'host' && k !== 'content-length') headers[k] = v;
  const body = event.body === undefined ? undefined : event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  const qs = event.rawQueryString ? `?${event.rawQueryString}` : '';
  return {
    url: `${base}${event.rawPath}${qs}`,
    init: { method: event.requestContext.http.method, headers, ...(body ? { body } : {}) },
  };
}

export async function endToEnd(deliveries: Delivery[], concurrency: number, tableName: string): Promise<E2eResult> {
  const server = await createLocalServer({ host: '127.0.0.1', port: 0, log: () => {} });
  const latencies: { source: string; ms: number }[] = [];
  const statuses: Record<string, number> = {};
  try {
    let next = 0;
    const t0 = performance.now();
    const worker = async () => {
      while (next < deliveries.length) {
        const d = deliveries[next++];
        if (!d) break;
        const { url, init } = requestOf(server.url, d.event);
        const started = performance.now();
        let status = 'error';
        try {
          const res = await fetch(url, init);
          await res.arrayBuffer();
          status = String(res.status);
        } catch {
          status = 'network-error';
        }
        latencies.push({ source: d.source, ms: performance.now() - started });
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const wallMs = performance.now() - t0;

    const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    let stored = 0;
    for (const d of deliveries) {
      const out = await ddb.send(new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': TABLE_SCHEMA.partitionKey },
        ExpressionAttributeValues: { ':pk': callPk(d.source, d.callId) },
        ConsistentRead: true,
        Select: 'COUNT',
      }));
      if ((out.Count ?? 0) > 0) stored += 1;
    }
    ddb.destroy();
    const ok = Object.entries(statuses).filter(([s]) => s.startsWith('2')).reduce((n, [, c]) => n + c, 0);
    const bySource: E2eResult['bySource'] = {};
    for (const source of new Set(latencies.map((l) => l.source))) {
      const xs = latencies.filter((l) => l.source === source).map((l) => l.ms);
      bySource[source] = { n: xs.length, p50Ms: percentile(xs, 50), p99Ms: percentile(xs, 99) };
    }
    const all = latencies.map((l) => l.ms);
    return {
      deliveries: deliveries.length, concurrency, wallMs,
      perSecond: deliveries.length / (wallMs / 1000),
      p50Ms: percentile(all, 50), p99Ms: percentile(all, 99),
      statuses, stored, lost: deliveries.length - Math.min(stored, ok), bySource,
    };
  } finally {
    await server.close();
  }
}
