import { describe, expect, it } from 'vitest';
import { indexSizes, itemBytes, valueBytes } from '../../lib/commands/index-sizes.ts';

/**
 * The item-size arithmetic behind `npm run index-sizes` (docs/deploy.md,
 * "Index costs"), on values sized by hand from DynamoDB's rules.
 */

describe('DynamoDB item sizes', () => {
  it('sizes each type as DynamoDB counts it', () => {
    expect(valueBytes({ S: 'héllo' })).toBe(6); // UTF-8 bytes
    expect(valueBytes({ N: '123.45' })).toBe(4); // 5 significant digits → 3 bytes, + 1
    expect(valueBytes({ N: '1000' })).toBe(2); // trailing zeros trimmed: 1 digit
    expect(valueBytes({ BOOL: true })).toBe(1);
    expect(valueBytes({ NULL: true })).toBe(1);
    expect(valueBytes({ L: [{ S: 'ab' }, { S: 'c' }] })).toBe(3 + (2 + 1) + (1 + 1));
    expect(valueBytes({ M: { ab: { S: 'xyz' } } })).toBe(3 + 2 + 3 + 1);
    expect(itemBytes({ PK: { S: 'CALL#x#1' }, n: { N: '7' } })).toBe(2 + 8 + 1 + 2);
  });

  it('an item in a slim index costs its keys, source and callId plus 100 bytes; in an ALL index, the whole item plus 100', () => {
    const item = {
      PK: { S: 'CALL#volubile#c1' }, SK: { S: 'CALL' },
      GSI1PK: { S: 'DAY#2026-01-02' }, GSI1SK: { S: 't#volubile#c1#CALL' },
      GSI3PK: { S: 'RECEIVED#2026-01-02' }, GSI3SK: { S: 'r#volubile#c1#CALL' },
      source: { S: 'volubile' }, callId: { S: 'c1' },
      record: { M: { transcript: { S: 'x'.repeat(10_000) } } },
    };
    const sizes = indexSizes(item);
    expect(sizes.indexes.byPhone).toBeUndefined(); // no valid number: not in the phone index
    const keysAndRef = (2 + 16) + (2 + 4) + (6 + 14) + (6 + 18) + (6 + 8) + (6 + 2);
    expect(sizes.indexes.byDay).toEqual({ all: sizes.table + 100, slim: keysAndRef + 100 });
    expect(sizes.table).toBeGreaterThan(10_000);
  });
});
