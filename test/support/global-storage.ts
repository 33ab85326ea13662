import type { TestProject } from 'vitest/node';
import { startEmbeddedStorage, sdkEnvironment, ensureBucketAndTable, type EmbeddedStorage } from '../../lib/embedded.ts';

/**
 * One real s3rver and one real dynalite for the whole run, reached over HTTP
 * through the real AWS SDK. Test files see them through the standard SDK
 * environment, exactly as the handlers do in local mode.
 */
export const TEST_BUCKET = 'voice-webhooks-test';
export const TEST_TABLE = 'voice-webhooks-test';

let storage: EmbeddedStorage | undefined;

export async function setup(project: TestProject): Promise<void> {
  storage = await startEmbeddedStorage();
  await ensureBucketAndTable(storage, TEST_BUCKET, TEST_TABLE);
  Object.assign(process.env, sdkEnvironment(storage), {
    BUCKET_NAME: TEST_BUCKET,
    TABLE_NAME: TEST_TABLE,
    TEST_DATA_DIR: storage.dataDir,
    // The SDK warns on every client that Node 20 support ends in 2027; Lambda runs Node 24.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  project.provide('storage', { s3Endpoint: storage.s3Endpoint, dynamoEndpoint: storage.dynamoEndpoint });
}

export async function teardown(): Promise<void> {
  await storage?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    storage: { s3Endpoint: string; dynamoEndpoint: string };
  }
}
