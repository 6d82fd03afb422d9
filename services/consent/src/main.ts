// Runs the consent service on its own: config → connect → migrate → serve → drain on SIGTERM.
import { runStandalone } from '@samsyn/platform';
import { createConsentService, SERVICE } from './service.ts';

await runStandalone(SERVICE, createConsentService);
