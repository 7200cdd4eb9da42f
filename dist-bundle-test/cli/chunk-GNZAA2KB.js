import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/methods/jobs.js
function throwIfCancelled(signal, what = "the job") {
  if (signal?.aborted)
    throw new ConvLensError("CANCELLED", `Cancelled ${what}.`, "Nothing was written for the cancelled part.");
}

export {
  throwIfCancelled
};
