import type { Command } from 'commander';
import { formatSummary, summarize } from '../../../methods/inspect/summary.js';
import { describeProfile } from '../../../models/profile.js';
import { type CommonOptions, openModel, withCommon } from '../common.js';

export function define(command: Command): void {
  withCommon(command)
    .option('--json', 'print the summary as JSON')
    .action(async (opts: CommonOptions & { json?: boolean }) => {
      const { engine, model } = openModel(opts);
      const s = summarize(model);
      const profile = model.profile;
      const text = `${formatSummary(s)}\nLayer roles (the defaults every command uses; '#k' and module paths work as --layer names):\n${describeProfile(profile, (v) => model.layerLabel(v)).map((l) => `  ${l}`).join('\n')}\n`;
      process.stdout.write(opts.json ? `${JSON.stringify({ ...s, profile }, null, 2)}\n` : text);
      await engine.dispose();
    });
}
