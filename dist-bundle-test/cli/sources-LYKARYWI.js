import {
  openSource
} from "./chunk-A7RQSV7O.js";
import "./chunk-JFQ3PAZH.js";
import "./chunk-EQEDVHDE.js";
import "./chunk-XD57GLXB.js";
import "./chunk-X2V5Z5UO.js";
import "./chunk-75463JA6.js";
import "./chunk-4WR5QSMB.js";
import "./chunk-Y3QEK5WU.js";
import "./chunk-N6ATQ4RF.js";
export {
  openSource
};
