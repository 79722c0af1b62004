import { describe, test } from 'bun:test';
import { Value } from '@sinclair/typebox/value';
import { CHECKS } from './checks.ts';
import { ConformanceFixtures, type ConformanceOptions, type ConformanceReport } from './model.ts';
import { openSession } from './session.ts';

export { CHECKS, type Check } from './checks.ts';
export { ConformanceError } from './assert.ts';
export * from './model.ts';

function assertFixtures(options: ConformanceOptions): void {
  if (!Value.Check(ConformanceFixtures, options.fixtures)) {
    const error = Value.Errors(ConformanceFixtures, options.fixtures).First();
    throw new Error(`Conformance fixtures for '${options.name}' are invalid at ${error?.path}: ${error?.message}.`);
  }
}

/**
 * Runs every check against fresh connector instances and reports each one, without a
 * test framework. Used to prove that the kit can fail (a broken connector must not pass).
 */
export async function runConformance(options: ConformanceOptions): Promise<ConformanceReport[]> {
  assertFixtures(options);
  const reports: ConformanceReport[] = [];
  for (const check of CHECKS) {
    try {
      await check.run(await openSession(options));
      reports.push({ check: check.name, passed: true });
    } catch (error) {
      reports.push({ check: check.name, passed: false, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return reports;
}

/**
 * The one call a connector's test file makes: registers a `bun:test` block with one test
 * per conformance check.
 *
 * @example
 * // processors/acme/conformance.test.ts
 * describeProcessorConformance({ name: 'acme', factory: () => ({ processor: createAcme(), credentials, settle }), fixtures });
 */
export function describeProcessorConformance(options: ConformanceOptions): void {
  assertFixtures(options);
  describe(`processor conformance: ${options.name}`, () => {
    for (const check of CHECKS) {
      test(check.name, async () => {
        await check.run(await openSession(options));
      });
    }
  });
}
