import {
  EMBED_METHODS,
  assignment,
  embedStore,
  embedVectors,
  parseEmbedMethod,
  pca,
  snapToGrid,
  stratifiedSample
} from "./chunk-EFVCFFLJ.js";
import "./chunk-Y3QEK5WU.js";
import "./chunk-GNZAA2KB.js";
import "./chunk-N6ATQ4RF.js";
export {
  EMBED_METHODS,
  assignment,
  embedStore,
  embedVectors,
  parseEmbedMethod,
  pca,
  snapToGrid,
  stratifiedSample
};
