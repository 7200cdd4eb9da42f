import {
  DEBIAN_FASHION_MNIST_DIR,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_PREPROCESSING,
  SPLITS,
  SUBSET_DIR,
  candidateDirs,
  checkSplit,
  hasFashionMnist,
  loadFashionMnist,
  loadIdxPair,
  locateFashionMnist
} from "./chunk-XD57GLXB.js";
import "./chunk-X2V5Z5UO.js";
import "./chunk-75463JA6.js";
import "./chunk-Y3QEK5WU.js";
import "./chunk-N6ATQ4RF.js";
export {
  DEBIAN_FASHION_MNIST_DIR,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_PREPROCESSING,
  SPLITS,
  SUBSET_DIR,
  candidateDirs,
  checkSplit,
  hasFashionMnist,
  loadFashionMnist,
  loadIdxPair,
  locateFashionMnist
};
