import type { Command } from 'commander';

/**
 * Commander answers `--help` before it notices that the command is unknown, so
 * `reprise nosuchcommand --help` would print the general help and exit 0: a script (or a person)
 * would take a missing command for a working one. This walks the command words first and refuses
 * an unknown one the way commander does without --help: "unknown command", usage exit code.
 */
export function refuseUnknownCommand(program: Command, args: string[]): void {
  let command = program;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return;
    if (arg.startsWith('-')) {
      // An option taking a value (`-c file`) swallows the next word unless given as --opt=value.
      const option = command.options.find((o) => o.long === arg || o.short === arg);
      if (option && (option.required || option.optional) && !arg.includes('=')) i++;
      continue;
    }
    // A command that takes operands of its own (`reprints [target]`) reads the word as one.
    if (!command.commands.length || command.registeredArguments.length) return;
    const sub = command.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (sub) {
      command = sub;
      continue;
    }
    // `reprise help <command>`: commander's own help command checks its argument.
    if (arg === 'help') return;
    // Its help follows (showHelpAfterError), listing the commands there are.
    command.error(`error: unknown command '${arg}'`, { code: 'commander.unknownCommand' });
  }
}
