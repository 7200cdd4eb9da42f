// The words the page uses for a model's outputs, by its output kind (src/models/output-kind.ts):
// a regression's outputs are values, not classes, and have no probability; a multi-label head's
// outputs are classes each with its own probability (the sigmoid of its logit), not a softmax's.
import type { OutputKindName } from './api';

/** "class"/"classes", or for a regression "output"/"outputs". */
export function outputNouns(kind: OutputKindName | undefined): { one: string; many: string } {
  return kind === 'regression' ? { one: 'output', many: 'outputs' } : { one: 'class', many: 'classes' };
}

/** What the deletion/insertion curves follow (report.ts scores them with defaultCurveScore). */
export function curveScoreLabel(kind: OutputKindName | undefined, unit: boolean): string {
  if (unit) return 'value of the unit';
  if (kind === 'regression') return 'value of the target output';
  if (kind === 'multi-label') return "target's own probability (sigmoid)";
  return 'probability of the target';
}

/** The two scores a class can be explained by, as the Score toggle offers them. */
export function scoreOptions(kind: OutputKindName | undefined, probabilityNote = ''): { value: 'logit' | 'prob'; label: string; title: string }[] {
  if (kind === 'multi-label') {
    return [
      { value: 'logit', label: 'logit', title: "the output's logit, before its sigmoid" },
      { value: 'prob', label: 'probability', title: `the output's own probability, the sigmoid of its logit (no softmax over the outputs)${probabilityNote}` },
    ];
  }
  return [
    { value: 'logit', label: 'logit', title: 'the class score before softmax' },
    { value: 'prob', label: 'probability', title: `the softmax probability${probabilityNote}` },
  ];
}
