import type { Command } from 'commander';
import { ConvLensError } from '../../engine/errors.js';

/** When an option applies, as said to the user. */
export interface OptionMode {
  /** completes "--x applies only ...": "with --optimizer sgd", "without --net" */
  when: string;
  /** why, when it is not obvious */
  why?: string;
  /** the other way out besides leaving the option out: "add --optimizer sgd" */
  add?: string;
}

/**
 * An option that means something only in some modes of its command: `--momentum` only with SGD,
 * `--queue` only with `--redis`. Given outside its mode it would be ignored without a word, so the
 * run the user gets is not the one they asked for.
 */
export interface OptionRule extends OptionMode {
  /** the option's attribute name (`stepSize` for --step-size) */
  option: string;
  /** whether the options and arguments given put the command in a mode where `option` applies */
  applies: (opts: Record<string, unknown>, args: readonly unknown[]) => boolean;
}

/** Checks the rules before `command`'s action runs; options left at their defaults are not checked. */
export function optionRules(command: Command, rules: readonly OptionRule[]): Command {
  return command.hook('preAction', (_, action) => {
    if (action !== command) return;
    const opts = command.opts();
    for (const rule of rules) {
      // a rule naming an option the command does not have would never fire: a fault of ours
      if (!command.options.some((o) => o.attributeName() === rule.option)) throw new Error(`option rule for unknown option "${rule.option}" of ${command.name()}`);
      const source = command.getOptionValueSource(rule.option);
      if (source === undefined || source === 'default' || source === 'implied') continue;
      if (rule.applies(opts, command.processedArgs)) continue;
      const flag = command.options.find((o) => o.attributeName() === rule.option)?.long ?? rule.option;
      throw new ConvLensError('INVALID_ARGUMENT', `${flag} applies only ${rule.when}${rule.why ? ` (${rule.why})` : ''}; here it would be ignored.`, `Leave out ${flag}${rule.add ? `, or ${rule.add}` : ''}.`);
    }
  });
}

/** The same rule for several options. */
export function onlyWith(mode: OptionMode, applies: OptionRule['applies'], ...options: string[]): OptionRule[] {
  return options.map((option) => ({ ...mode, option, applies }));
}
