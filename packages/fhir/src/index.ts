// Public surface of @samsyn/fhir.
export * from './bundle.ts';
export * from './capability.ts';
export * from './codesystems.ts';
export * as dt from './datatypes.ts';
export { codesIn } from './datatypes.ts';
export * from './errors.ts';
export * from './etag.ts';
export * from './http.ts';
export * from './identifiers.ts';
export * from './person-token.ts';
export * from './search.ts';
export * from './swedish-calendar.ts';
export type * from './types.ts';
