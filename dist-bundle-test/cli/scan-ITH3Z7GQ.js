import {
  indexDataset,
  modelFingerprint,
  planChunks,
  prepareStore,
  settingsOf
} from "./chunk-US7IWGJH.js";
import "./chunk-REQFKBTL.js";
import "./chunk-4WR5QSMB.js";
import "./chunk-GNZAA2KB.js";
import "./chunk-N6ATQ4RF.js";
export {
  indexDataset,
  modelFingerprint,
  planChunks,
  prepareStore,
  settingsOf
};
