/** Root pino logger: JSON lines, pretty-printed when a person runs the component in a terminal. */
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

export function createLogger(component: string, opts: { level?: string; pretty?: boolean } = {}): Logger {
  const level = opts.level ?? process.env.KUBELAB_LOG_LEVEL ?? 'info';
  const pretty = opts.pretty ?? (process.stdout.isTTY === true && process.env.KUBELAB_LOG_FORMAT !== 'json');
  return pino({
    level,
    base: { component },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname' } } } : {}),
  });
}

/** A silent logger for tests. */
export function nullLogger(): Logger {
  return pino({ level: 'silent' });
}
