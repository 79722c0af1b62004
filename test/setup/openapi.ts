import { afterAll } from 'bun:test';
import { flushObserved, ledger, ledgerReport, observeFetch, strictContract } from '../helpers/openapi-observer';

/**
 * Preloaded by bunfig.toml for every test run: real-socket responses are checked against
 * the OpenAPI document too (in-process apps are wrapped by test/helpers/app.ts), and
 * after the last file the run prints what it checked, with a table of violations. The
 * run fails on violations under CI=true or NIMBUS_OPENAPI_STRICT=1 (=0: never).
 */
observeFetch(() => import('../helpers/app').then((helpers) => helpers.defaultDocument()));

afterAll(async () => {
  await flushObserved();
  if (ledger.checked === 0 && ledger.violations.length === 0 && ledger.errors.length === 0) return; // a run without end-to-end tests
  const strict = strictContract();
  const report = ledgerReport(strict);
  if (process.env.NIMBUS_OPENAPI_REPORT) await Bun.write(process.env.NIMBUS_OPENAPI_REPORT, JSON.stringify(ledger, null, 2));
  if (strict && (ledger.violations.length > 0 || ledger.errors.length > 0)) throw new Error(`Responses that break the OpenAPI document:\n${report}`);
  console.log(`\n${report}`);
});
