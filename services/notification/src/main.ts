// Runs the notification service on its own: config → connect → migrate → serve → drain on SIGTERM.
import { runStandalone } from '@samsyn/platform';
import { createNotificationService, SERVICE } from './service.ts';

await runStandalone(SERVICE, createNotificationService);
