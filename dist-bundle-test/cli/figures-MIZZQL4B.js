import {
  embeddingGridFigure,
  neighboursFigure,
  patchesFigure,
  scatterFigure,
  signedMapImage
} from "./chunk-TOAD5ZOE.js";
import "./chunk-A36QIBQV.js";
import "./chunk-TUXGXZTB.js";
import "./chunk-N6ATQ4RF.js";
export {
  embeddingGridFigure,
  neighboursFigure,
  patchesFigure,
  scatterFigure,
  signedMapImage
};
