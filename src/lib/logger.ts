import pino from 'pino';

export type Logger = pino.Logger;

/** Structured JSON logs; personal data never goes into a log line. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'arrears' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', 'authorization', 'token', 'nationalId'], censor: '[redacted]' },
  });
}
