// Public surface of @samsyn/db.
export * from './connection.ts';
export * from './migrate.ts';
export * from './pipeline.ts';
