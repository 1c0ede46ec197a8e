/** `kubelab api-resources`: the served resources with short names and kinds. */
import type { Command } from 'commander';
import { RESOURCES, apiVersionOf } from '../../api/resources.js';
import { formatTable } from '../util.js';

export function register(program: Command): void {
  program
    .command('api-resources')
    .description('List the resource types the apiserver serves')
    .action(() => {
      const rows = RESOURCES.map((r) => [r.resource, r.shortNames.join(','), apiVersionOf(r), String(r.namespaced), r.kind]);
      process.stdout.write(formatTable(['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND'], rows) + '\n');
    });
}
