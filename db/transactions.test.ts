import { describe, expect, test } from 'bun:test';
import { inlineParameters, sqlLiteral } from './transactions';

describe('literals of one-round-trip reads', () => {
  test('ids, statuses, times and integers are written as literals', () => {
    expect(sqlLiteral('pay_0WKRtnWLO92l2R7aZtjYZ93S')).toBe("'pay_0WKRtnWLO92l2R7aZtjYZ93S'");
    expect(sqlLiteral('2026-11-30T10:00:00.000Z')).toBe("'2026-11-30T10:00:00.000Z'");
    expect(sqlLiteral(11)).toBe("'11'");
    expect(sqlLiteral(-5)).toBe("'-5'");
    expect(sqlLiteral(12n)).toBe("'12'");
    expect(sqlLiteral(null)).toBe('null');
    expect(sqlLiteral(true)).toBe('true');
  });

  test('anything that could end a literal, start a comment or lose precision is refused', () => {
    for (const value of ["a'b", 'a\\b', 'a b', 'a;b', 'a--b/*', '$1', 'é', 'x'.repeat(257), 1.5, Number.MAX_SAFE_INTEGER + 2, Number.NaN, {}, [], new Date(0)]) {
      expect(sqlLiteral(value)).toBeUndefined();
    }
  });

  test('every $n is replaced, or nothing is', () => {
    expect(inlineParameters('select * from payments where tenant_id = $1 and seq < $2 limit $3', ['ten_a', '42', 11])).toBe(
      "select * from payments where tenant_id = 'ten_a' and seq < '42' limit '11'",
    );
    expect(inlineParameters('select $1, $2', ['a', "b'"])).toBeUndefined();
    expect(inlineParameters('select $1, $2', ['a'])).toBeUndefined();
    expect(inlineParameters('select $10', Array.from({ length: 10 }, (_, i) => `v${i + 1}`))).toBe("select 'v10'");
  });
});
