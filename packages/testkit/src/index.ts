// Public surface of @samsyn/testkit (test code only).
export * from './database.ts';
export * from './fhir-peer.ts';
export * from './fixtures.ts';
export * from './harness.ts';
export * from './infra.ts';
export * from './nats.ts';
export * from './validate.ts';
