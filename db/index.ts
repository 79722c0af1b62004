export { createDatabase, createPgliteDatabase, createPostgresDatabase, rowsOf, APP_ROLE } from './client';
export type { Database, Db, Tx, Schema } from './client';
export { migrate, pendingMigrations, MIGRATIONS_FOLDER } from './migrate';
export * as schema from './schema';
export { inspectRoles, roleProblems, type RoleReport } from './roles';
export { codecOf, encode, readById, runStatement, tableCodec, type TableCodec } from './statements';
export type { StatementObserver } from './transactions';
