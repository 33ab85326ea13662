import { startEmbeddedStorage, sdkEnvironment, ensureBucketAndTable, type EmbeddedStorage } from '../../../lib/embedded.ts';
import { startStallProxy, type StallProxy } from './stall-proxy.ts';

/**
 * A test file's OWN s3rver + dynalite (so stopping them does not disturb other
 * test files), each behind a stall proxy. The SDK environment of this worker is
 * pointed at the proxies: call this BEFORE importing storage or handler modules,
 * which build their SDK clients at module load.
 */
export interface FaultStorage {
  storage: EmbeddedStorage;
  s3Proxy: StallProxy;
  ddbProxy: StallProxy;
  bucketName: string;
  tableName: string;
  /** Stop / start one server, tracking state so `restoreAll` is safe to call at any time. */
  stopS3(): Promise<void>;
  stopDynamo(): Promise<void>;
  restoreAll(): Promise<void>;
  stop(): Promise<void>;
}

export async function startFaultStorage(name = 'reliability'): Promise<FaultStorage> {
  const storage = await startEmbeddedStorage();
  const s3Proxy = await startStallProxy(() => storage.s3Port);
  const ddbProxy = await startStallProxy(() => storage.dynamoPort);
  const bucketName = `${name}-bucket`;
  const tableName = `${name}-table`;
  await ensureBucketAndTable(storage, bucketName, tableName);
  Object.assign(process.env, sdkEnvironment({ s3Endpoint: s3Proxy.endpoint, dynamoEndpoint: ddbProxy.endpoint }), {
    BUCKET_NAME: bucketName,
    TABLE_NAME: tableName,
  });
  let s3Up = true;
  let ddbUp = true;
  return {
    storage, s3Proxy, ddbProxy, bucketName, tableName,
    stopS3: async () => { if (s3Up) { s3Up = false; await storage.stopS3(); } s3Proxy.dropConnections(); },
    stopDynamo: async () => { if (ddbUp) { ddbUp = false; await storage.stopDynamo(); } ddbProxy.dropConnections(); },
    restoreAll: async () => {
      s3Proxy.mode = 'pass';
      ddbProxy.mode = 'pass';
      s3Proxy.dropConnections();
      ddbProxy.dropConnections();
      if (!s3Up) { await storage.startS3(); s3Up = true; }
      if (!ddbUp) { await storage.startDynamo(); ddbUp = true; }
    },
    stop: async () => { await s3Proxy.close(); await ddbProxy.close(); await storage.stop(); },
  };
}
