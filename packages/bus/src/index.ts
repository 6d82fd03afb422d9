// Public surface of @samsyn/bus.
export * from './bus.ts';
export * from './consumer.ts';
export * from './group-commit.ts';
export * from './naming.ts';
export * from './outbox.ts';
export * from './poll-loop.ts';
export * from './tables.ts';
