import type { SourceOf } from '#shared/sources';
import type { CallProvider } from './types.ts';
import { volubile } from './volubile.ts';
import { synthflow } from './synthflow.ts';
import { vapi } from './vapi.ts';

/**
 * The adapter of every source the registry (functions/shared/sources.ts)
 * routes to the call-completed handler: the compiler refuses a declared
 * source without one, and the registry's test a provider whose `source` differs.
 */
const ADAPTERS: Record<SourceOf<'call-completed'>, CallProvider> = { volubile, synthflow, vapi };

export const PROVIDERS: ReadonlyMap<string, CallProvider> = new Map(Object.entries(ADAPTERS));

export const PROVIDER_NAMES: readonly string[] = [...PROVIDERS.keys()];

export function findProvider(name: string | undefined): CallProvider | undefined {
  return name === undefined ? undefined : PROVIDERS.get(name.toLowerCase());
}

export type { CallProvider, NotACall } from './types.ts';
