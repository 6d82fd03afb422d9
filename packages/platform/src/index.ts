// Public surface of @samsyn/platform.
export * from './audit.ts';
export * from './auth.ts';
export * from './config.ts';
export * from './http.ts';
export * from './logger.ts';
export * from './metrics.ts';
export * from './service.ts';
export * from './shutdown.ts';
export * from './trace.ts';
