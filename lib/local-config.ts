import { resolve } from 'node:path';

/** Local mode's settings and their defaults (shared by npm start, invoke and replay). */

export const LOCAL_DEFAULTS = {
  HOST: '127.0.0.1',
  PORT: '3000',
  DATA_DIR: '.data',
  LOCAL_S3_PORT: '4569',
  LOCAL_DYNAMODB_PORT: '4567',
  BUCKET_NAME: 'voice-webhooks-local',
  TABLE_NAME: 'voice-webhooks-local',
} as const;

type Env = Record<string, string | undefined>;

export interface LocalConfig {
  host: string;
  port: number;
  dataDir: string;
  s3Port: number;
  dynamoPort: number;
  bucketName: string;
  tableName: string;
}

function setting(env: Env, name: keyof typeof LOCAL_DEFAULTS): string {
  const value = env[name]?.trim();
  return value ? value : LOCAL_DEFAULTS[name];
}

function port(env: Env, name: 'PORT' | 'LOCAL_S3_PORT' | 'LOCAL_DYNAMODB_PORT'): number {
  const raw = setting(env, name);
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} "${raw}" is not a TCP port number`);
  return n;
}

export function readLocalConfig(env: Env = process.env): LocalConfig {
  return {
    host: setting(env, 'HOST'),
    port: port(env, 'PORT'),
    dataDir: resolve(setting(env, 'DATA_DIR')),
    s3Port: port(env, 'LOCAL_S3_PORT'),
    dynamoPort: port(env, 'LOCAL_DYNAMODB_PORT'),
    bucketName: setting(env, 'BUCKET_NAME'),
    tableName: setting(env, 'TABLE_NAME'),
  };
}
