import { createLocalServer, type LocalServer } from '../../lib/local-server.ts';
import { createInbox, type Inbox } from '../../lib/inbox/index.ts';
import { requestTarget, type OutgoingRequest } from '../../lib/requests.ts';

/** The local server of `npm start` with the inbox plugged in, as local/start.ts wires it. */
export async function startInboxServer(): Promise<{ server: LocalServer; inbox: Inbox; url: string; lines: string[]; close(): Promise<void> }> {
  const inbox = createInbox({ bucketName: process.env.BUCKET_NAME ?? '', tableName: process.env.TABLE_NAME ?? '', recentMinutes: 10 });
  const lines: string[] = [];
  const server = await createLocalServer({
    host: '127.0.0.1',
    port: 0,
    onDelivery: (e) => inbox.onDelivery(e),
    extraRoutes: (req, res) => inbox.handle(req, res),
    log: (line) => lines.push(line),
  });
  return {
    server, inbox, url: server.url, lines,
    close: async () => { inbox.close(); await server.close(); },
  };
}

/** Sends a vendor request over real HTTP to the local server. */
export async function send(baseUrl: string, r: OutgoingRequest): Promise<{ status: number; body: string }> {
  const res = await fetch(baseUrl + requestTarget(r), {
    method: r.method,
    headers: r.headers,
    ...(r.body ? { body: r.body } : {}),
  });
  return { status: res.status, body: await res.text() };
}
