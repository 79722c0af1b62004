import { describe, expect, test } from 'bun:test';
import { ApiError } from './errors';
import { parseListQuery } from './pagination';

function problem(query: Record<string, unknown>): unknown {
  try {
    parseListQuery(query);
  } catch (error) {
    return error instanceof ApiError ? error.toBody() : error;
  }
  return undefined;
}

describe('parseListQuery', () => {
  test('defaults and valid values', () => {
    expect(parseListQuery({})).toEqual({ limit: 10, startingAfter: undefined, endingBefore: undefined, createdGte: undefined, createdLte: undefined });
    const parsed = parseListQuery({ limit: '100', starting_after: 'pay_1', created_gte: '2026-11-25T12:00:00.000Z', created_lte: '2026-11-25T13:00:00+01:00' });
    expect(parsed.limit).toBe(100);
    expect(parsed.createdGte?.toISOString()).toBe('2026-11-25T12:00:00.000Z');
    expect(parsed.createdLte?.toISOString()).toBe('2026-11-25T12:00:00.000Z');
  });

  test('each bad parameter is named', () => {
    expect(problem({ limit: '0' })).toMatchObject({ code: 'parameter_invalid', param: 'limit' });
    expect(problem({ limit: '1.5' })).toMatchObject({ param: 'limit' });
    expect(problem({ limit: ['1', '2'] })).toMatchObject({ param: 'limit' });
    expect(problem({ starting_after: 'a', ending_before: 'b' })).toMatchObject({ param: 'ending_before' });
    expect(problem({ created_gte: '2026-11-25' })).toMatchObject({ param: 'created_gte' });
    expect(problem({ created_lte: '2026-13-45T00:00:00Z' })).toMatchObject({ param: 'created_lte' });
  });
});
