import type { CallProvider } from './types.ts';
import { volubile } from './volubile.ts';
import { synthflow } from './synthflow.ts';
import { vapi } from './vapi.ts';

/** Every vendor served by `POST /call-completed/{provider}`: one line per vendor. */
export const PROVIDERS: ReadonlyMap<string, CallProvider> = new Map([
  [volubile.source, volubile],
  [synthflow.source, synthflow],
  [vapi.source, vapi],
]);

export const PROVIDER_NAMES: readonly string[] = [...PROVIDERS.keys()];

export function findProvider(name: string | undefined): CallProvider | undefined {
  return name === undefined ? undefined : PROVIDERS.get(name.toLowerCase());
}

export type { CallProvider, NotACall } from './types.ts';
