// Runs the plan-store service on its own: config → connect → migrate → serve → drain on SIGTERM.
import { runStandalone } from '@samsyn/platform';
import { createPlanStoreService, SERVICE } from './service.ts';

await runStandalone(SERVICE, createPlanStoreService);
