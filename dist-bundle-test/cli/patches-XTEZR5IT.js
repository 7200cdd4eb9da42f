import {
  cropPadded,
  fieldOf,
  parseChannels,
  topPatches
} from "./chunk-OMVEGQY4.js";
import "./chunk-AMIDQS7B.js";
import "./chunk-2RDMIJXC.js";
import "./chunk-75463JA6.js";
import "./chunk-GNZAA2KB.js";
import "./chunk-N6ATQ4RF.js";
export {
  cropPadded,
  fieldOf,
  parseChannels,
  topPatches
};
