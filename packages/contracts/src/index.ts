// Public surface of @samsyn/contracts.
export * from './envelope.ts';
export * from './events.ts';
