import type { OptimizerConfig } from './optimizers.js';

/**
 * The hint for a run whose loss, objective or parameters stopped being finite. Training and
 * synthesis blow up for the same few reasons (a step too large, a weight or penalty too strong);
 * "lower the learning rate" sends someone who set --weight-decay 1e308 the wrong way, so a
 * setting far outside its usual range is named first, with the value the user gave.
 */
export interface DivergenceSetting {
  /** how the user sets it, e.g. "--weight-decay" */
  option: string;
  /** what it is, e.g. "weight decay" */
  what: string;
  value: number;
  /** values above this are far beyond what a run needs, so the likely cause */
  usualMax: number;
}

const joinOr = (parts: readonly string[]): string => (parts.length < 2 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}`);

/**
 * `also` ends the general advice (e.g. "add warmup (--warmup)"); it is left out when a setting
 * is extreme, since lowering that one is the way out.
 */
export function divergenceHint(settings: readonly DivergenceSetting[], also?: string): string {
  const extreme = settings.filter((s) => s.value > s.usualMax);
  if (extreme.length) {
    const named = extreme.map((s) => `${s.option} ${s.value}`).join(' and ');
    const usual = extreme.map((s) => `${s.what} up to about ${s.usualMax}`).join(', ');
    return `${named} ${extreme.length > 1 ? 'are' : 'is'} far outside the usual range (${usual}): lower ${extreme.length > 1 ? 'them' : 'it'}.`;
  }
  const lower = settings.length ? `Lower ${joinOr(settings.map((s) => `the ${s.what} (${s.option})`))}` : 'Lower the step size or the weights of the loss terms';
  return `${lower}${also ? `, or ${also}` : ''}.`;
}

/** The settings of an optimizer that can blow training up, as `convlens train` spells them. */
export function optimizerSettings(optimizer: OptimizerConfig, lr: number): DivergenceSetting[] {
  const out: DivergenceSetting[] = [{ option: '--lr', what: 'learning rate', value: lr, usualMax: 1 }];
  if (optimizer.weightDecay) out.push({ option: '--weight-decay', what: 'weight decay', value: optimizer.weightDecay, usualMax: 1 });
  if (optimizer.type === 'sgd' && optimizer.momentum) out.push({ option: '--momentum', what: 'momentum', value: optimizer.momentum, usualMax: 0.999 });
  return out;
}
