// Runs the invitation service on its own: config → connect → migrate → serve → drain on SIGTERM.
import { runStandalone } from '@samsyn/platform';
import { createInvitationService, SERVICE } from './service.ts';

await runStandalone(SERVICE, createInvitationService);
