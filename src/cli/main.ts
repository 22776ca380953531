#!/usr/bin/env node
/** The `crucible` command. */
import { Command } from 'commander';
import { registerAdminCommands } from './commands/admin-commands.js';
import { registerClientCommands } from './commands/client-commands.js';
import { registerDemo } from './commands/demo.js';
import { registerEnvCommands } from './commands/env-commands.js';
import { registerServe } from './commands/serve.js';
import { CRUCIBLE_VERSION } from '../domain/version.js';

const program = new Command()
  .name('crucible')
  .description('Run untrusted, AI-generated Python safely: queued, sandboxed, measured and streamed.')
  .version(CRUCIBLE_VERSION)
  .option('--server <url>', 'server URL for client commands (env CRUCIBLE_URL)', process.env.CRUCIBLE_URL ?? 'http://127.0.0.1:8080')
  .showHelpAfterError();

registerServe(program);
registerClientCommands(program);
registerDemo(program);
registerAdminCommands(program);
registerEnvCommands(program);

await program.parseAsync(process.argv);
