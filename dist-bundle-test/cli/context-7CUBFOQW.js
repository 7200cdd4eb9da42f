import {
  checkModel,
  incompleteNotice,
  openStoreContext,
  resumeCommand,
  storeSource
} from "./chunk-X72YILSQ.js";
import "./chunk-P6HER42Z.js";
import "./chunk-2RDMIJXC.js";
import "./chunk-A7RQSV7O.js";
import "./chunk-JFQ3PAZH.js";
import "./chunk-EQEDVHDE.js";
import "./chunk-XD57GLXB.js";
import "./chunk-X2V5Z5UO.js";
import "./chunk-75463JA6.js";
import "./chunk-US7IWGJH.js";
import "./chunk-REQFKBTL.js";
import "./chunk-4WR5QSMB.js";
import "./chunk-Y3QEK5WU.js";
import "./chunk-GNZAA2KB.js";
import "./chunk-N6ATQ4RF.js";
export {
  checkModel,
  incompleteNotice,
  openStoreContext,
  resumeCommand,
  storeSource
};
