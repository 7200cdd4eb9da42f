import { Command } from 'commander';
import { refuseEmptyValues } from './empty-values.js';
import { describeFailure } from './failure.js';
import { COMMANDS, type CommandEntry } from './registry.js';

const program = new Command();
program
  .name('convlens')
  .description('See inside convolutional vision models and make images with them: summaries, predictions, explanations, dataset search, synthesis, diffusion.')
  .showHelpAfterError()
  .configureOutput({ outputError: (str, write) => write(str) })
  .hook('preAction', (_, action) => refuseEmptyValues(action));

function prepare(entry: CommandEntry): Command {
  const command = program.command(entry.name).description(entry.summary);
  for (const alias of entry.aliases ?? []) command.alias(alias);
  return command;
}

/** The command named on the command line (`convlens help <name>` included), if any. */
function requested(args: string[]): CommandEntry | undefined {
  const words = args.filter((a) => !a.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  return COMMANDS.find((c) => c.name === name || c.aliases?.includes(name ?? ''));
}

// `convlens predict ... | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    fail(e);
  });
}
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

try {
  const entry = requested(process.argv.slice(2));
  if (entry) {
    (await entry.load()).define(prepare(entry));
  } else {
    // Top-level help, or an unknown command (commander then suggests the closest name):
    // the names and summaries are enough, so no command module is loaded.
    for (const c of COMMANDS) prepare(c);
  }
  await program.parseAsync(process.argv);
} catch (e) {
  fail(e);
}

/** Prints what went wrong (and for a fault of ours, how to report it) and exits; never returns. */
function fail(e: unknown): never {
  const { text, exitCode } = describeFailure(e);
  try {
    process.stderr.write(`convlens: ${text}\n`);
  } catch {
    // stderr itself is gone (closed, or on a full disk): the exit code still tells
  }
  process.exit(exitCode);
}
