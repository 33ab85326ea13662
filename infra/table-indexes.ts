import { INDEX_ROLES, LEGACY_INDEX_NAMES, TABLE_SCHEMA, type IndexRole } from '#shared/table';

/**
 * Which GSIs the table declares at each step of the move from the ALL-projection
 * indexes (ByDay, ByPhone, ByReceived) to the slim ones (docs/deploy.md, "Index
 * costs"). CloudFormation changes no GSI's projection in place and adds or drops
 * only one GSI per stack update, so a deployed stack moves one index per deploy:
 *
 *   step 0  the three legacy indexes (the table as deployed before the slim ones)
 *   step 1  + ByDaySlim          step 4  - ByDay
 *   step 2  + ByPhoneSlim        step 5  - ByPhone
 *   step 3  + ByReceivedSlim     final   - ByReceived (no context: also a new stack)
 *
 * Readers pick, per role, the slim index once it is ACTIVE and backfilled, else
 * the legacy one (readableIndex in functions/shared/table.ts), so every step is
 * served while the next index builds.
 */
export const LAST_INDEX_MIGRATION_STEP = 5;

export interface DeclaredIndex {
  role: IndexRole;
  indexName: string;
  partitionKey: string;
  sortKey: string;
  /** false: projects ALL attributes (a legacy index, during the migration only). */
  slim: boolean;
}

/** The indexes of a migration step (0…5), or of the final table when undefined. */
export function declaredIndexes(step: number | undefined): DeclaredIndex[] {
  const s = step ?? LAST_INDEX_MIGRATION_STEP + 1;
  const n = INDEX_ROLES.length;
  const legacy = INDEX_ROLES.filter((_, i) => i >= s - n).map((role) => ({ role, indexName: LEGACY_INDEX_NAMES[role], slim: false }));
  const slim = INDEX_ROLES.filter((_, i) => i < s).map((role) => ({ role, indexName: TABLE_SCHEMA.indexes[role].indexName, slim: true }));
  // In role order (legacy before slim), so the table's AttributeDefinitions never reorder between steps.
  const order = (i: { role: IndexRole }) => INDEX_ROLES.indexOf(i.role);
  return [...legacy, ...slim].sort((a, b) => order(a) - order(b) || Number(a.slim) - Number(b.slim)).map((i) => ({ ...i, partitionKey: TABLE_SCHEMA.indexes[i.role].partitionKey, sortKey: TABLE_SCHEMA.indexes[i.role].sortKey }));
}
