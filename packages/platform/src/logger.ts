// JSON logs with pino; request and trace ids ride along as child-logger bindings.
import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';

export function createLogger(options: { service: string; level?: string }): Logger {
  return pino({
    name: options.service,
    level: options.level ?? 'info',
    base: { service: options.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Personal data must never reach the logs by accident (Patientdatalagen).
    redact: {
      paths: ['req.headers.authorization', '*.authorization', '*.token', '*.password'],
      censor: '[redacted]',
    },
  });
}
