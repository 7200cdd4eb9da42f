import type { Command } from 'commander';
import { ConvLensError } from '../../engine/errors.js';

/**
 * Values that may be empty on purpose: free text, "no transforms", and diffusion's unconditional
 * prompt. Any other empty value is a slip (an unset shell variable, `--resume "$CKPT"`), and read
 * as given it switched modes silently: `train --resume ''` started a fresh run, `style ''` made a
 * texture instead of styling an image.
 */
const MAY_BE_EMPTY = new Set(['description', 'provenance', 'negativePrompt', 'transforms', 'prompts']);

/** Refuses an empty option value or argument before the command's action runs. */
export function refuseEmptyValues(command: Command): void {
  for (const option of command.options) {
    const name = option.attributeName();
    if (MAY_BE_EMPTY.has(name) || command.getOptionValueSource(name) === 'default') continue;
    const value: unknown = command.getOptionValue(name);
    if (value === '' || (Array.isArray(value) && value.includes(''))) {
      const flag = option.long ?? option.short ?? name;
      throw new ConvLensError('INVALID_ARGUMENT', `${flag} is empty.`, `Give ${flag} a value, or leave it out${option.defaultValue !== undefined ? ` (default: ${String(option.defaultValue)})` : ''}.`);
    }
  }
  command.registeredArguments.forEach((argument, i) => {
    if (MAY_BE_EMPTY.has(argument.name())) return;
    const value: unknown = command.processedArgs[i];
    if (value === '' || (Array.isArray(value) && value.includes(''))) {
      throw new ConvLensError('INVALID_ARGUMENT', `The ${argument.name()} argument is empty.`, `Give the ${argument.name()}${argument.required ? '' : ', or leave it out'}; an unset shell variable expands to an empty string.`);
    }
  });
}
