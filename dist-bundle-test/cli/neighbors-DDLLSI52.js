import {
  nearestNeighbours,
  queryVectors
} from "./chunk-5XTLRBPQ.js";
import "./chunk-US7IWGJH.js";
import "./chunk-REQFKBTL.js";
import "./chunk-4WR5QSMB.js";
import "./chunk-GNZAA2KB.js";
import "./chunk-N6ATQ4RF.js";
export {
  nearestNeighbours,
  queryVectors
};
