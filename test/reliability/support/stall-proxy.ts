import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A loopback TCP proxy in front of an embedded server, to make real network
 * faults: `pass` forwards bytes both ways; `stall` accepts the connection,
 * reads the request and never answers (a storage endpoint that hangs);
 * `reset` accepts and closes at once. When the server behind it is stopped,
 * forwarded connections are closed, as a load balancer in front of a dead
 * endpoint would.
 */
export type ProxyMode = 'pass' | 'stall' | 'reset';

export interface StallProxy {
  port: number;
  endpoint: string;
  mode: ProxyMode;
  /** Drop every open connection (keep-alive sockets included), so the next request sees the new mode. */
  dropConnections(): void;
  close(): Promise<void>;
}

export async function startStallProxy(targetPort: () => number, host = '127.0.0.1'): Promise<StallProxy> {
  const sockets = new Set<Socket>();
  const track = (s: Socket) => { sockets.add(s); s.once('close', () => sockets.delete(s)); };
  const proxy: StallProxy = {
    port: 0,
    endpoint: '',
    mode: 'pass',
    dropConnections: () => { for (const s of sockets) s.destroy(); },
    close: () => new Promise<void>((resolve) => { proxy.dropConnections(); server.close(() => resolve()); }),
  };
  const server: Server = createServer((client) => {
    track(client);
    client.on('error', () => client.destroy());
    if (proxy.mode === 'reset') { client.destroy(); return; }
    if (proxy.mode === 'stall') { client.resume(); return; }
    const upstream = connect(targetPort(), host);
    track(upstream);
    upstream.on('error', () => { upstream.destroy(); client.destroy(); });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  proxy.port = (server.address() as AddressInfo).port;
  proxy.endpoint = `http://${host}:${proxy.port}`;
  return proxy;
}
