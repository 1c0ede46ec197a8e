import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { boolFlag, durationFlag, FlagError, floatFlag, intFlag, listFlag, oneOfFlag, parseFlags, stringFlag } from './flags.js';

const FLAGS = {
  name: stringFlag('--name <n>', 'a name', { env: 'T_NAME' }),
  count: intFlag('--count <n>', 'a count'),
  ratio: floatFlag('--ratio <x>', 'a ratio'),
  periodMs: durationFlag('--period <d>', 'a period', { env: 'T_PERIOD' }),
  enabled: boolFlag('--enabled', 'on or off'),
  mode: oneOfFlag('--mode <m>', ['a', 'b'], 'a mode'),
  upstreams: listFlag('--upstream <ip...>', 'resolvers'),
};

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseFlags(new Command('t'), FLAGS, argv, env);

describe('parseFlags', () => {
  it('sets only what the command line or the environment gives, typed', () => {
    expect(parse([])).toEqual({});
    expect(parse(['--name', 'x', '--count=3', '--ratio', '0.5', '--period', '1m30s', '--mode', 'b', '--upstream', '1.1.1.1', '8.8.8.8'])).toEqual({
      name: 'x',
      count: 3,
      ratio: 0.5,
      periodMs: 90_000,
      mode: 'b',
      upstreams: ['1.1.1.1', '8.8.8.8'],
    });
  });

  it.each([
    [['--enabled'], true],
    [['--enabled=true'], true],
    [['--enabled=false'], false],
    [['--enabled', 'false'], false],
    [['--enabled=0'], false],
    [['--enabled=T'], true],
  ])('reads a boolean as Kubernetes does: %j', (argv, want) => {
    expect(parse(argv).enabled).toBe(want);
  });

  it('falls back to the environment, parsed like the flag; the flag wins', () => {
    expect(parse([], { T_NAME: 'from-env', T_PERIOD: '2s' })).toEqual({ name: 'from-env', periodMs: 2000 });
    expect(parse(['--name', 'flag'], { T_NAME: 'from-env' }).name).toBe('flag');
    expect(() => parse([], { T_PERIOD: 'soon' })).toThrow('--period (env T_PERIOD): "soon" is not a duration');
  });

  it.each([
    [['--count', 'x'], '--count: "x" is not an integer'],
    [['--count', '1.5'], '--count: "1.5" is not an integer'],
    [['--ratio', 'lots'], '--ratio: "lots" is not a number'],
    [['--period', '5 parsecs'], '--period: "5 parsecs" is not a duration'],
    [['--enabled=maybe'], '--enabled: "maybe" is not a boolean (true or false)'],
    [['--mode', 'c'], '--mode: "c" is not one of a, b'],
  ])('refuses %j naming the flag, the value and the reason', (argv, message) => {
    let err: unknown;
    try {
      parse(argv);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FlagError);
    expect((err as Error).message).toContain(message);
  });

  it('refuses an unknown flag', () => {
    expect(() => parse(['--nmae', 'x'])).toThrow(/unknown option '--nmae'/);
  });
});
