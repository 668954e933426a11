/** `tillgate iso decode|encode`: placeholder until the gateway lands (the TCP gateway issue). */
import type { Command } from 'commander';

export function addIsoCommands(program: Command): void {
  program.command('iso').description('ISO 8583 tools (decode / encode)');
}
