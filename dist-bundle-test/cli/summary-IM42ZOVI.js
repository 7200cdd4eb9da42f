import {
  formatSummary,
  summarize
} from "./chunk-SP62ILAM.js";
import "./chunk-AMIDQS7B.js";
import {
  openModel,
  withCommon
} from "./chunk-OMSJE7ZP.js";
import "./chunk-4KDPQESB.js";
import {
  describeProfile
} from "./chunk-P6HER42Z.js";
import "./chunk-2RDMIJXC.js";
import "./chunk-X2V5Z5UO.js";
import "./chunk-75463JA6.js";
import "./chunk-4WR5QSMB.js";
import "./chunk-Y3QEK5WU.js";
import "./chunk-N6ATQ4RF.js";

// dist/interfaces/cli/commands/summary.js
function define(command) {
  withCommon(command).option("--json", "print the summary as JSON").action(async (opts) => {
    const { engine, model } = openModel(opts);
    const s = summarize(model);
    const profile = model.profile;
    const text = `${formatSummary(s)}
Layer roles (the defaults every command uses; '#k' and module paths work as --layer names):
${describeProfile(profile).map((l) => `  ${l}`).join("\n")}
`;
    process.stdout.write(opts.json ? `${JSON.stringify({ ...s, profile }, null, 2)}
` : text);
    await engine.dispose();
  });
}
export {
  define
};
