// Starts history-worker.ts in a worker thread: workers do not inherit the TypeScript loader the rebuild runs under
// (tsx from the command line, vitest in tests), so the worker loads its TypeScript through tsx's API.
import { tsImport } from 'tsx/esm/api';

await tsImport('./history-worker.ts', import.meta.url);
