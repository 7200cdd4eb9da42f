import type { Command } from 'commander';
import { formatSummary, summarize } from '../../../methods/inspect/summary.js';
import { openModel, withCommon, type CommonOptions } from '../common.js';

export function define(command: Command): void {
  withCommon(command)
    .option('--json', 'print the summary as JSON')
    .action(async (opts: CommonOptions & { json?: boolean }) => {
      const { engine, model } = openModel(opts);
      const s = summarize(model);
      process.stdout.write(opts.json ? `${JSON.stringify(s, null, 2)}\n` : `${formatSummary(s)}\n`);
      await engine.dispose();
    });
}
