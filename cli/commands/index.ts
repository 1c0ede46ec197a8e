/** Every CLI command module registers itself on the root program here. */
import type { Command } from 'commander';

export type Register = (program: Command) => void;

const modules: Register[] = [];

export function registerAll(program: Command): void {
  for (const register of modules) register(program);
}
