// Public surface of @samsyn/case-projection.
export * from './handlers.ts';
export * from './tables.ts';
export * from './visibility.ts';
