import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalRecordings } from '../../lib/local-recordings.ts';

/** The local recordings worker is built from what it is given, whatever was imported or set before. */
describe('startLocalRecordings', () => {
  const cfg = () => ({ host: '127.0.0.1', dataDir: mkdtempSync(join(tmpdir(), 'rec-config-')) });
  const userEnv = { LOCAL_SQS_PORT: '0' };

  it('reads the worker settings from the env it is given, not from process.env, and frees its port on failure', async () => {
    const saved = { BUCKET_NAME: process.env.BUCKET_NAME, TABLE_NAME: process.env.TABLE_NAME };
    process.env.BUCKET_NAME = 'set-in-process-env';
    process.env.TABLE_NAME = 'set-in-process-env';
    try {
      await expect(startLocalRecordings(userEnv, cfg(), { env: { TABLE_NAME: 't' } })).rejects.toThrow(/BUCKET_NAME/);
      const started = await startLocalRecordings(userEnv, cfg(), { env: { BUCKET_NAME: 'b', TABLE_NAME: 't' } });
      expect(started.banner).toContain(started.queues.url('recordings'));
      await started.close();
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
