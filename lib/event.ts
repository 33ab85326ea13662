import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { LOCAL_API_ID, toApiGatewayEvent } from './api-gateway.ts';
import { requestTarget, type OutgoingRequest } from './requests.ts';

/** The API Gateway domain sample events claim to come through. */
export const SAMPLE_DOMAIN = `${LOCAL_API_ID}.execute-api.us-east-1.amazonaws.com`;
/** A documentation address (RFC 5737), standing in for the vendor's IP. */
export const SAMPLE_SOURCE_IP = '203.0.113.10';

/**
 * The event API Gateway would deliver for this request: the request as it
 * leaves the sender's HTTP client (host, content-length added) through the
 * same toApiGatewayEvent the local server uses.
 */
export function eventFromRequest(req: OutgoingRequest, now = new Date()): APIGatewayProxyEventV2 {
  const headers: [string, string][] = [['host', SAMPLE_DOMAIN], ...req.headers];
  if (req.body) headers.push(['content-length', String(req.body.length)]);
  return toApiGatewayEvent({
    method: req.method,
    target: requestTarget(req),
    headers,
    body: req.body,
    sourceIp: SAMPLE_SOURCE_IP,
    protocol: 'HTTP/1.1',
    now,
  });
}
