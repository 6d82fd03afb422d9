// What globalSetup hands every test file (vitest provide/inject), typed once.
declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    natsUrl: string;
  }
}

export {};
