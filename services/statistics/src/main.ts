// Runs the statistics service on its own: config → connect → migrate → serve → drain on SIGTERM.
import { runStandalone } from '@samsyn/platform';
import { createStatisticsService, SERVICE } from './service.ts';

await runStandalone(SERVICE, createStatisticsService);
